#!/usr/bin/env node
'use strict';
// P1 (issue 7) / issue 3's benchmark: what request logging costs on the practice shop's failing login and
// a basket read, for no logging, morgan, pino-http, express-winston, winston + winston-syslog and the full
// a09 fixed stack, all in the same run. Each variant is a server in its own process; autocannon loads it
// from another process; variants are interleaved round by round (in a new order each round) so drift
// on a shared machine hits them alike. Per cell: requests/s, p99 latency, and the server's own CPU time
// per request (process.cpuUsage() around the run, read in the server), the steadier number here.
//
//   node bench/http-overhead.js [--rounds 4] [--duration 3] [--connections 10] [--variants a,b] [--routes login,basket]
//                               [--profile DIR [--profile-variants a09,bare]]   (--cpu-prof profiles of those servers)
// A variant `a09=<dist dir>` runs the a09 server on another build: before/after in the same run.
// Requires a build (`npm run build`; A09_BENCH_DIST=<dir> for another one).

const fs = require('node:fs');
const path = require('node:path');
const { fixed, markdownTable, median, option, scratchDir, signed, sleep, startChild } = require('./lib/harness');

const DEFAULT_VARIANTS = ['bare', 'bare+shapes', 'morgan', 'pino-http', 'express-winston', 'winston-syslog', 'a09', 'a09-inline', 'a09+helmet'];

const ROUTES = {
  login: (token) => ({
    label: 'POST /rest/user/login (failing)',
    method: 'POST',
    path: '/rest/user/login',
    headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench' },
    body: JSON.stringify({ email: 'jim@juice-sh.op', password: 'not-his-password' }),
    token,
  }),
  basket: (token) => ({
    label: 'GET /rest/basket/1 (own basket)',
    method: 'GET',
    path: '/rest/basket/1',
    headers: { authorization: `Bearer ${token}`, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench' },
  }),
};

/** Targets from issues 3 and 7, checked on the login route. */
const TARGETS = { ratio: 0.85, cpuOverBareUs: 60 };

/** A fresh order each round (seeded: runs compare), so no variant always follows the same neighbour. */
function shuffled(list, round) {
  let seed = 0x9e3779b9 ^ (round * 0x85ebca6b);
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function measure(server, loader, request, seconds, connections) {
  await server.ask('begin');
  const load = await loader.ask('run', {
    url: server.url + request.path,
    method: request.method,
    headers: request.headers,
    body: request.body,
    duration: seconds,
    connections,
  });
  // Let what a request left for later (spool flush, fsync, socket writes) run inside the window.
  await sleep(150);
  const usage = await server.ask('end');
  return {
    rps: load.rps,
    latencyP50: load.latencyP50,
    latencyP99: load.latencyP99,
    cpuUsPerRequest: usage.requests > 0 ? usage.cpuMicros / usage.requests : NaN,
    threads: usage.threads,
    requests: usage.requests,
    errors: load.errors + load.timeouts,
    statuses: load.statuses,
  };
}

async function run(options = {}) {
  const rounds = Number(options.rounds ?? 4);
  const seconds = Number(options.duration ?? 3);
  const connections = Number(options.connections ?? 10);
  const variants = options.variants ?? DEFAULT_VARIANTS;
  const routes = options.routes ?? ['login', 'basket'];
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const dir = scratchDir('a09-bench-http-');
  if (options.profile !== undefined) fs.mkdirSync(path.resolve(options.profile), { recursive: true });

  const sink = startChild(path.join(__dirname, 'lib', 'tcp-sink.js'));
  const ports = await sink.ready;
  const loader = startChild(path.join(__dirname, 'lib', 'load.js'));
  const servers = {};
  try {
    await loader.ready;
    for (const variant of variants) {
      const profiling = options.profile !== undefined && (options.profileVariants ?? ['a09']).includes(variant);
      // `a09=<dir>`: the a09 variant on another build (before/after comparisons in one run).
      const [kind, dist] = variant.split('=');
      const child = startChild(path.join(__dirname, 'lib', 'shop-server.js'), [kind], {
        env: {
          ...(dist !== undefined && { A09_BENCH_DIST: path.resolve(dist) }),
          BENCH_DIR: path.join(dir, variant.replace(/[^A-Za-z0-9-]/g, '_')),
          BENCH_SINK_ACK: String(ports.ack),
          BENCH_SINK_DRAIN: String(ports.drain),
          ...(profiling && { BENCH_PROFILE_DIR: path.resolve(options.profile) }),
        },
        execArgv: profiling ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(options.profile)] : [],
      });
      const info = await child.ready;
      servers[variant] = Object.assign(child, info);
    }
    const requests = Object.fromEntries(routes.map((route) => [route, (token) => ROUTES[route](token)]));
    log(`P1: ${variants.length} servers up; warm-up, then ${rounds} rounds x ${routes.length} routes x ${seconds} s, ${connections} connections`);
    for (const variant of variants) {
      for (const route of routes) await measure(servers[variant], loader, requests[route](servers[variant].token), 1, connections);
    }
    const cells = {};
    for (let round = 0; round < rounds; round++) {
      for (const route of routes) {
        for (const variant of shuffled(variants, round)) {
          const result = await measure(servers[variant], loader, requests[route](servers[variant].token), seconds, connections);
          ((cells[route] ??= {})[variant] ??= []).push(result);
        }
      }
      log(`P1: round ${round + 1}/${rounds} done`);
    }
    const sinkCounts = await sink.ask('counts');
    return summarise({ cells, variants, routes, rounds, seconds, connections, sinkCounts });
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    await loader.stop();
    await sink.stop();
  }
}

/** Median us per request of each thread group (main, started, helpers), when the servers could read /proc. */
function threadMedians(list) {
  const known = list.filter((cell) => cell.threads !== undefined);
  if (known.length === 0) return undefined;
  return Object.fromEntries(['main', 'started', 'helpers'].map((group) => [group, Math.round(median(known.map((cell) => cell.threads[group])))]));
}

function summarise({ cells, variants, routes, rounds, seconds, connections, sinkCounts }) {
  const results = { rounds, seconds, connections, routes: {}, sink: sinkCounts };
  for (const route of routes) {
    const bare = cells[route].bare;
    // bare+shapes: the baseline with a09's hidden-class change and nothing else (what the logging costs on its own).
    const shaped = cells[route]['bare+shapes'];
    const byVariant = {};
    for (const variant of variants) {
      const list = cells[route][variant];
      const perRound = (fn, base = bare) => median(list.map((cell, i) => fn(cell, base?.[i])));
      byVariant[variant] = {
        rps: median(list.map((c) => c.rps)),
        ratio: bare === undefined ? NaN : perRound((c, b) => c.rps / b.rps),
        latencyP99Ms: median(list.map((c) => c.latencyP99)),
        cpuUsPerRequest: median(list.map((c) => c.cpuUsPerRequest)),
        cpuOverBareUs: bare === undefined ? NaN : perRound((c, b) => c.cpuUsPerRequest - b.cpuUsPerRequest),
        ratioToShapes: shaped === undefined ? NaN : perRound((c, b) => c.rps / b.rps, shaped),
        cpuOverShapesUs: shaped === undefined ? NaN : perRound((c, b) => c.cpuUsPerRequest - b.cpuUsPerRequest, shaped),
        threadsUs: threadMedians(list),
        errors: list.reduce((sum, c) => sum + c.errors, 0),
        statuses: list[0].statuses,
        samples: list.map((c) => ({ rps: Math.round(c.rps), cpuUs: Math.round(c.cpuUsPerRequest), p99: c.latencyP99 })),
      };
    }
    results.routes[route] = byVariant;
  }
  const login = results.routes.login;
  if (login?.a09 !== undefined) {
    const others = Object.entries(login).filter(([name]) => !name.startsWith('bare') && !name.startsWith('a09'));
    results.targets = {
      loginRatio: { value: login.a09.ratio, target: `>= ${TARGETS.ratio}`, met: login.a09.ratio >= TARGETS.ratio },
      loginCpuOverBare: { value: login.a09.cpuOverBareUs, target: `<= +${TARGETS.cpuOverBareUs} us`, met: login.a09.cpuOverBareUs <= TARGETS.cpuOverBareUs },
      aheadOfOthers: {
        value: others.filter(([, v]) => v.ratio >= login.a09.ratio).map(([name]) => name),
        target: 'a09 ratio above every other variant',
        met: others.every(([, v]) => v.ratio < login.a09.ratio),
      },
    };
    if (login['bare+shapes'] !== undefined) {
      results.targets.loginAgainstSameShapes = {
        value: { ratio: login.a09.ratioToShapes, cpuOverUs: login.a09.cpuOverShapesUs },
        target: 'informational: a09 against bare with the same hidden-class change (the logging on its own)',
        met: true,
      };
    }
  }
  return results;
}

function table(results) {
  const rows = [];
  const shapes = Object.values(results.routes).some((byVariant) => byVariant['bare+shapes'] !== undefined);
  for (const [route, byVariant] of Object.entries(results.routes)) {
    for (const [variant, v] of Object.entries(byVariant)) {
      const againstShapes = variant.startsWith('bare') ? '–' : `${fixed(v.ratioToShapes, 2)} / ${signed(v.cpuOverShapesUs)}`;
      rows.push([
        route,
        variant,
        fixed(v.rps),
        fixed(v.ratio, 2),
        fixed(v.latencyP99Ms, 1),
        fixed(v.cpuUsPerRequest),
        variant === 'bare' ? '–' : signed(v.cpuOverBareUs),
        v.threadsUs === undefined ? '–' : `${v.threadsUs.main} / ${v.threadsUs.started} / ${v.threadsUs.helpers}`,
        ...(shapes ? [againstShapes] : []),
      ]);
    }
  }
  const headers = ['route', 'variant', 'req/s', 'vs bare', 'p99 ms', 'CPU us/req', 'CPU over bare', 'main / worker / V8 us'];
  return markdownTable(shapes ? [...headers, 'vs bare+shapes (ratio / CPU)'] : headers, rows);
}

module.exports = { run, table, DEFAULT_VARIANTS, TARGETS };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const list = (value) => (typeof value === 'string' ? value.split(',') : undefined);
  run({
    rounds: option(argv, 'rounds', 4),
    duration: option(argv, 'duration', 3),
    connections: option(argv, 'connections', 10),
    variants: list(option(argv, 'variants')),
    routes: list(option(argv, 'routes')),
    profile: option(argv, 'profile'),
    profileVariants: list(option(argv, 'profile-variants')),
  })
    .then((results) => {
      console.log(table(results));
      if (results.targets !== undefined) console.log(JSON.stringify(results.targets));
      if (argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
