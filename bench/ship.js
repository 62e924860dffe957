#!/usr/bin/env node
// Shipping cost: events/s and CPU per event through our SyslogTransport (spool + RFC 5424 + octet
// counting over TCP) against winston-syslog 2.7.1 over TCP, in the same run, to a local TCP sink in
// a child process (so the sink's CPU is not counted). Also the whole emit path of createAuditLogger
// (EventSource + sanitizeEvent + winston + transport), the number issue 7's 60 us budget is about.
// Requires a build: `npm run build`, then `node bench/ship.js [events] [rounds]`.
'use strict';

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setImmediate, setTimeout } = require('node:timers');
const { monitorEventLoopDelay } = require('node:perf_hooks');

let ship;
let events;
try {
  ship = require(path.join(__dirname, '..', 'dist', 'src', 'ship'));
  events = require(path.join(__dirname, '..', 'dist', 'src', 'events'));
  if (typeof ship.createAuditLogger !== 'function') throw new Error('dist/src/ship is stale');
} catch (error) {
  console.error(`cannot load dist/src/ship (${error.message}); run \`npm run build\` first`);
  process.exit(2);
}
const winston = require('winston');
const { Syslog } = require('winston-syslog');

const COUNT = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
/** Events handed over per event loop turn: a busy server logs from many requests between turns. */
const PER_TURN = 50;

if (process.argv[2] === '--sink') runSink(process.argv[3]);

/** The sink: counts occurrences of a marker (one per message) and reports the count on request. */
function runSink(marker) {
  const net = require('node:net');
  let count = 0;
  const server = net.createServer((socket) => {
    let tail = '';
    socket.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      let at = text.indexOf(marker);
      while (at >= 0) {
        count++;
        at = text.indexOf(marker, at + marker.length);
      }
      tail = text.slice(-(marker.length - 1));
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'count') process.send({ count });
    if (message === 'reset') count = 0;
  });
}

function startSink(marker) {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'ship.js'), ['--sink', marker], { stdio: 'inherit' });
    child.once('message', ({ port }) => resolve({ child, port }));
  });
}

function askCount(child) {
  return new Promise((resolve) => {
    child.once('message', ({ count }) => resolve(count));
    child.send('count');
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Send COUNT events (PER_TURN per turn), wait until the sink has them all; wall time and our CPU. */
async function measure(sink, sendOne) {
  sink.child.send('reset');
  await sleep(50);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i += PER_TURN) {
    for (let j = i; j < Math.min(COUNT, i + PER_TURN); j++) sendOne(j);
    await turn();
  }
  let received = 0;
  const deadline = Date.now() + 60_000;
  while ((received = await askCount(sink.child)) < COUNT && Date.now() < deadline) await sleep(5);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  return {
    loopDelayMaxMs: loop.max / 1e6,
    eventsPerSecond: received / seconds,
    cpuUsPerEvent: (cpu.user + cpu.system) / COUNT,
    received,
  };
}

function sampleInput(source, n) {
  return {
    type: 'http_request',
    outcome: 'success',
    who: { ip: '10.0.0.7', userId: '2', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36' },
    where: { method: 'GET', route: '/rest/basket/:id', url: `/rest/basket/${n}`, requestId: `req-${n}`, status: 200 },
    detail: { durationMs: 3, bytes: 1234 },
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const spoolRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-bench-ship-'));
  const ourSink = await startSink('[meta sequenceId=');
  const theirSink = await startSink('a09-seq=');
  const source = new events.EventSource({ app: 'juice-shop', host: 'bench', hmacKey: 'k' });
  const prepared = Array.from({ length: COUNT }, (_, n) => source.create(sampleInput(source, n)));
  const results = { ours: [], oursNoFsync: [], theirs: [], emit: [] };
  let round = 0;

  async function ours(key, fsyncIntervalMs) {
    const transport = new ship.SyslogTransport({
      collector: `tcp://127.0.0.1:${ourSink.port}`,
      spoolDir: path.join(spoolRoot, `${key}-${round}`),
      fsyncIntervalMs,
    });
    while (!transport.stats().connected) await sleep(5);
    const noop = () => undefined;
    results[key].push(await measure(ourSink, (i) => transport.log({ level: 'info', message: '', event: prepared[i] }, noop)));
    await transport.close();
  }

  async function theirs() {
    const transport = new Syslog({ host: '127.0.0.1', port: theirSink.port, protocol: 'tcp4', type: '5424', appName: 'juice-shop', eol: '\n' });
    const logger = winston.createLogger({ levels: winston.config.syslog.levels, transports: [transport] });
    logger.on('error', () => undefined);
    logger.info('warm-up a09-seq=0');
    while (!transport.connected) await sleep(5);
    await sleep(50);
    // The same information as our MSG: the event as JSON.
    const lines = prepared.map((event) => `${JSON.stringify(event)} a09-seq=${event.seq}`);
    results.theirs.push(await measure(theirSink, (i) => logger.info(lines[i])));
    transport.socket.destroy();
  }

  async function emitPath() {
    const logger = ship.createAuditLogger({
      collector: `tcp://127.0.0.1:${ourSink.port}`,
      spoolDir: path.join(spoolRoot, `emit-${round}`),
      heartbeatMs: 0,
      app: 'juice-shop',
      hmacKey: 'k',
    });
    while (!logger.stats().ship.connected) await sleep(5);
    results.emit.push(await measure(ourSink, (i) => logger.emit(sampleInput(logger.source, i))));
    await logger.close();
  }

  for (round = 0; round < ROUNDS; round++) {
    await ours('ours', 100);
    await ours('oursNoFsync', 0);
    await theirs();
    await emitPath();
  }
  ourSink.child.kill();
  theirSink.child.kill();
  fs.rmSync(spoolRoot, { recursive: true, force: true });

  const row = (label, list) => {
    const eps = median(list.map((r) => r.eventsPerSecond));
    const cpu = median(list.map((r) => r.cpuUsPerEvent));
    const loopMax = median(list.map((r) => r.loopDelayMaxMs));
    console.log(`${label.padEnd(58)} ${Math.round(eps).toString().padStart(8)} ev/s  ${cpu.toFixed(1).padStart(6)} us CPU/event  max event loop delay ${loopMax.toFixed(1)} ms`);
    return { eps, cpu };
  };
  console.log(`ship bench: ${COUNT} events x ${ROUNDS} rounds, ${PER_TURN} per event loop turn, medians; sink in a child process`);
  const oursRow = row('SyslogTransport (spool, fsync every 100 ms, TCP)', results.ours);
  row('SyslogTransport (spool, no fsync, TCP)', results.oursNoFsync);
  const theirsRow = row('winston-syslog 2.7.1 (TCP, RFC 5424, LF, no spool)', results.theirs);
  row('createAuditLogger().emit (create+sanitize+winston+ship)', results.emit);
  // On a shared machine events/s swings with the load; CPU per event is the steadier comparison.
  console.log(`SyslogTransport / winston-syslog: ${(oursRow.eps / theirsRow.eps).toFixed(2)}x events/s, ${(oursRow.cpu / theirsRow.cpu).toFixed(2)}x CPU per event`);
  const lost = [...results.ours, ...results.oursNoFsync, ...results.emit].filter((r) => r.received < COUNT).length;
  if (lost > 0) console.log(`WARNING: ${lost} runs did not deliver every event within 60 s`);
  process.exit(0);
}

if (process.argv[2] !== '--sink') {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
