#!/usr/bin/env node
'use strict';
/**
 * The attacker container's entrypoint: waits until the collector and every target answer, then runs the
 * command. `a09-lab attack` given without --target / --collector gets them from the service's environment
 * (A09_ATTACK_TARGETS: comma-separated `[kind=]URL`; A09_COLLECTOR_URL), so
 * `docker compose run attacker a09-lab attack --scenario brute-force` runs one scenario against the lab.
 * The token stays in the environment (A09_COLLECTOR_TOKEN, which `a09-lab attack` reads), off the command line.
 */
const { spawn } = require('node:child_process');
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');

function targetsFrom(env) {
  return (env.A09_ATTACK_TARGETS ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** The command with the lab's targets and collector added where the caller gave none. */
function withLabDefaults(argv, env) {
  if (argv[0] !== 'a09-lab' || argv[1] !== 'attack' || argv.includes('--help') || argv.includes('-h')) return [...argv];
  const out = [...argv];
  if (!out.includes('--target')) for (const target of targetsFrom(env)) out.push('--target', target);
  if (!out.includes('--collector') && env.A09_COLLECTOR_URL) out.push('--collector', env.A09_COLLECTOR_URL);
  return out;
}

/** What must answer before the attack starts: the collector's /health (200) and each target (any answer below 500). */
function dependenciesFrom(env) {
  // A target may carry its kind: `fixed=http://shop-fixed:3000`.
  const list = targetsFrom(env).map((target) => ({ url: target.replace(/^[a-z]+=/, ''), ok: (status) => status > 0 && status < 500 }));
  if (env.A09_COLLECTOR_URL) list.unshift({ url: `${env.A09_COLLECTOR_URL.replace(/\/+$/, '')}/health`, ok: (status) => status === 200 });
  return list;
}

function probe(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 4000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(0));
  });
}

/** Polls until every dependency answers; resolves with those still down when `timeoutMs` ran out. */
async function waitUntilUp(dependencies, timeoutMs, log = (line) => process.stderr.write(`${line}\n`)) {
  const deadline = Date.now() + timeoutMs;
  let down = dependencies;
  while (down.length > 0) {
    const statuses = await Promise.all(down.map((d) => probe(d.url)));
    down = down.filter((d, i) => !d.ok(statuses[i]));
    if (down.length === 0 || Date.now() >= deadline) break;
    await sleep(1000);
  }
  if (down.length > 0) log(`attacker: still not answering after ${Math.round(timeoutMs / 1000)} s: ${down.map((d) => d.url).join(', ')}`);
  return down.map((d) => d.url);
}

async function main(argv = process.argv.slice(2), env = process.env) {
  const command = argv.length > 0 ? argv : ['a09-lab', 'attack'];
  const waitMs = Number(env.A09_WAIT_SECONDS ?? 300) * 1000;
  const down = await waitUntilUp(dependenciesFrom(env), waitMs);
  if (down.length > 0) return 1;
  const [file, ...args] = withLabDefaults(command, env);
  const child = spawn(file, args, { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`attacker: cannot run ${file}: ${error.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}

module.exports = { withLabDefaults, dependenciesFrom, waitUntilUp, main };
