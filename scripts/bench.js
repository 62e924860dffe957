#!/usr/bin/env node
'use strict';
// `npm run bench`: the whole pipeline measured against the tools people would use instead (issue 7), in one
// run, with one markdown table. Quick mode (default) is about 5 minutes on 2 cores; `--full` runs longer.
//
//   npm run bench -- [--full] [--only P1,P3] [--name NAME] [--no-build]
//
// P1 request overhead (bench/http-overhead.js), P2 time to alert (bench/time-to-alert.js), P3 collector
// ingest against rsyslog (bench/collector-ingest.js), P4 detection memory (bench/detect-memory.js), P5 the
// spool through a collector outage, with winston-syslog for contrast (bench/spool-outage.js).
// Results: the table on stdout, JSON in bench/results/<name>.json (default name: quick|full-<date>).
// Builds first (tsc) when dist/ is missing or older than the sources; A09_BENCH_DIST uses another build.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const FULL = argv.includes('--full');

function option(name, fallback) {
  const index = argv.indexOf(`--${name}`);
  return index === -1 || argv[index + 1] === undefined ? fallback : argv[index + 1];
}

function newestMtime(dir, ext) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Build dist/ when it is missing or older than any source file (a fresh clone, or edited sources). */
function ensureBuild() {
  if (process.env.A09_BENCH_DIST !== undefined || argv.includes('--no-build')) return;
  const marker = path.join(ROOT, 'dist', 'src', 'shop', 'index.js');
  const built = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(ROOT, 'src'), '.ts'), newestMtime(path.join(ROOT, 'middleware'), '.ts'));
  if (built >= sources) return;
  process.stderr.write('bench: building (tsc -p tsconfig.json)...\n');
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

ensureBuild();

const { fixed, machine, markdownTable } = require('../bench/lib/harness');
const parts = require('../bench/lib/parts');

async function main() {
  const only = option('only', undefined)?.split(',').map((p) => p.trim().toUpperCase());
  const mode = FULL ? 'full' : 'quick';
  const name = option('name', `${mode}-${new Date().toISOString().slice(0, 10)}`);
  const log = (line) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const report = { mode, machineAtStart: machine(), parts: {} };
  log(`bench (${mode}): ${report.machineAtStart.cpus} cpus, load ${report.machineAtStart.loadAverage.join(' ')}`);

  for (const part of parts.ALL) {
    if (only !== undefined && !only.includes(part.id)) continue;
    log(`\n${part.id}: ${part.title}`);
    const t0 = Date.now();
    try {
      report.parts[part.id] = { ...(await part.run({ full: FULL, log })), elapsedSeconds: Math.round((Date.now() - t0) / 1000) };
    } catch (error) {
      log(`${part.id} failed: ${error.stack ?? error}`);
      report.parts[part.id] = { error: String(error.message ?? error), elapsedSeconds: Math.round((Date.now() - t0) / 1000) };
    }
  }
  report.machineAtEnd = machine();
  report.seconds = Math.round((Date.now() - started) / 1000);

  const rows = [];
  for (const part of parts.ALL) {
    const result = report.parts[part.id];
    if (result === undefined) continue;
    if (result.error !== undefined) rows.push([part.id, part.title, `failed: ${result.error}`, '', '']);
    else rows.push(...part.rows(result));
  }
  const out = [];
  out.push(`a09-lab bench, ${mode} mode, ${report.machineAtStart.date.slice(0, 16).replace('T', ' ')} UTC`);
  out.push(
    `machine: ${report.machineAtStart.cpus} x ${report.machineAtStart.cpuModel}, ${report.machineAtStart.memoryGb} GB, ${report.machineAtStart.platform}, Node ${report.machineAtStart.node}; ` +
      `load average ${report.machineAtStart.loadAverage.join(' ')} at start, ${report.machineAtEnd.loadAverage.join(' ')} at end; ${report.seconds} s`,
  );
  out.push('');
  out.push(markdownTable(['part', 'measure', 'result', 'target', 'met'], rows));
  if (report.parts.P1?.routes !== undefined) {
    out.push('');
    out.push(`P1 detail (medians of ${report.parts.P1.rounds} interleaved rounds of ${report.parts.P1.seconds} s, ${report.parts.P1.connections} connections; order shuffled each round; ratios and CPU differences taken per round, then the median):`);
    out.push('');
    out.push(parts.p1Table(report.parts.P1));
  }
  console.log(out.join('\n'));
  report.table = out.join('\n');
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwritten: ${path.relative(process.cwd(), file)} (${fixed(report.seconds)} s in all)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
