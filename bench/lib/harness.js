'use strict';
// Shared pieces of the benchmarks: where the compiled code is, child processes spoken to over IPC,
// statistics, machine facts, markdown tables. Plain CommonJS so a bench runs with `node` on a built tree.

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setTimeout, clearTimeout } = require('node:timers');

const ROOT = path.join(__dirname, '..', '..');

/**
 * The compiled tree the benchmarks load (`dist/` after `npm run build`). A09_BENCH_DIST points elsewhere,
 * e.g. a private build while other work rebuilds dist/ (it must lie under the repository, or its
 * node_modules, so that packages resolve).
 */
function distDir() {
  return path.resolve(process.env.A09_BENCH_DIST ?? path.join(ROOT, 'dist'));
}

/** `loadDist('src/ship')`: a compiled module, or exit 2 with a hint when there is no build. */
function loadDist(name) {
  const file = path.join(distDir(), name);
  try {
    return require(file);
  } catch (error) {
    console.error(`cannot load ${file} (${error.message}); run \`npm run build\` first`);
    process.exit(2);
  }
}

/** A child process speaking `{ id, ... }` request/reply messages; `ready` resolves with its first message. */
function startChild(script, args = [], options = {}) {
  const child = fork(script, args, {
    stdio: ['ignore', options.quiet === false ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
  });
  let nextId = 1;
  const waiting = new Map();
  let exited = false;
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code, signal) => reject(new Error(`${path.basename(script)} ${args.join(' ')} exited (${code ?? signal}) before it was ready`)));
  });
  child.on('message', (message) => {
    if (message === null || typeof message !== 'object' || message.id === undefined) return;
    const pending = waiting.get(message.id);
    if (pending === undefined) return;
    waiting.delete(message.id);
    if (message.error !== undefined) pending.reject(new Error(`${path.basename(script)}: ${message.error}`));
    else pending.resolve(message);
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const pending of waiting.values()) pending.reject(new Error(`${path.basename(script)} exited (${code ?? signal})`));
    waiting.clear();
  });
  return {
    child,
    ready,
    /** Send a command, resolve with the reply. */
    ask(command, payload = {}) {
      if (exited) return Promise.reject(new Error(`${path.basename(script)} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, command, ...payload });
      });
    },
    /** Ask it to stop, then kill it if it does not within `graceMs`. */
    async stop(graceMs = 5000) {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      try {
        child.send({ id: 0, command: 'stop' });
      } catch {
        // Its channel is already closed.
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * In a child: answer `{ id, command }` messages with `handlers[command](message)`; `stop` runs
 * `handlers.stop` (if any) and exits.
 */
function serveCommands(handlers) {
  process.on('message', async (message) => {
    if (message === null || typeof message !== 'object') return;
    const { id, command } = message;
    if (command === 'stop') {
      try {
        await handlers.stop?.();
      } finally {
        process.exit(0);
      }
      return;
    }
    const handler = handlers[command];
    try {
      if (handler === undefined) throw new Error(`unknown command ${command}`);
      const reply = (await handler(message)) ?? {};
      process.send({ id, ...reply });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
  });
  // The parent going away ends the child: no orphans on a crashed run.
  process.on('disconnect', () => process.exit(0));
}

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process's own CPU time (user + system) in microseconds. */
function cpuMicros() {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** CPU ticks (1/100 s) of each thread of this process, by thread id, from /proc (Linux; empty elsewhere). */
function threadTicks() {
  const ticks = {};
  let tids = [];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return ticks;
  }
  for (const tid of tids) {
    try {
      const fields = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks[tid] = Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread ended
    }
  }
  return ticks;
}

/**
 * us of CPU per item between two threadTicks() readings: the main thread, the threads that existed when
 * `helpers` was read (V8's GC and compiler threads, libuv's pool), and the threads started since (workers).
 */
function threadSplit(before, after, helpers, count) {
  const split = { main: 0, started: 0, helpers: 0 };
  for (const [tid, ticks] of Object.entries(after)) {
    const used = ((ticks - (before[tid] ?? 0)) * 10000) / count;
    if (tid === String(process.pid)) split.main += used;
    else if (helpers.has(tid)) split.helpers += used;
    else split.started += used;
  }
  return split;
}

function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1e9),
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** A markdown table: `rows` are arrays of cells, already formatted. */
function markdownTable(header, rows) {
  const widths = header.map((cell, i) => Math.max(String(cell).length, ...rows.map((row) => String(row[i] ?? '').length), 3));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function fixed(value, digits = 0) {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** A difference as `fixed` writes it, with its sign (`+12`, `-3`). */
function signed(value, digits = 0) {
  return `${value >= 0 ? '+' : ''}${fixed(value, digits)}`;
}

/** A scratch directory removed at exit (also on Ctrl-C). */
function scratchDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return dir;
}

/** `--name value` / `--flag` parsing for the bench scripts. */
function option(argv, name, fallback) {
  const index = argv.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = argv[index + 1];
  return value === undefined || value.startsWith('--') ? true : value;
}

module.exports = {
  ROOT,
  cpuMicros,
  distDir,
  threadSplit,
  threadTicks,
  fixed,
  loadDist,
  machine,
  markdownTable,
  median,
  option,
  percentile,
  scratchDir,
  serveCommands,
  signed,
  sleep,
  startChild,
};
