#!/usr/bin/env node
// Ingest rate over TCP with octet counting: the collector (parse + sequence tracking + detection rules +
// SQLite store with the hash chain, until the last event is committed and acknowledged) side by side with
// rsyslog (imtcp -> omfile) fed the same bytes in the same run. Issue 7 target: >= 100k events/s and
// >= 0.3 of rsyslog's rate, on 2 cores.
//
// Requires a build: `npm run build`, then
//   node bench/collector-ingest.js [--events 200000] [--sync FULL|NORMAL] [--writer thread|inline] [--no-rules] [--runs 1] [--no-rsyslog] [--keep-files]
// The sender is a separate process writing one pre-built buffer as fast as the receiver takes it; the
// payload is built by another child, so the collector's heap starts clean. CPU is reported in all and per
// thread (main = framing, parsing, hashing; writer = SQLite; V8 helpers = concurrent GC and compiler).
// To compare variants without touching dist/: `tsc -p tsconfig.json --outDir /tmp/x --tsBuildInfoFile /tmp/x/.b`
// then `BENCH_DIST=/tmp/x/src NODE_PATH=$PWD/node_modules node bench/collector-ingest.js ...`.
/* global Buffer, __filename, setTimeout */
'use strict';

const { spawn, spawnSync, fork } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { threadSplit, threadTicks } = require('./lib/harness');

// BENCH_DIST: another build of src (tsc --outDir elsewhere), e.g. to compare variants without touching dist/.
const DIST = process.env.BENCH_DIST ?? path.join(__dirname, '..', 'dist', 'src');

// --- sender (child process): `--sender <file> <port>` -------------------------------------------------
if (process.argv[2] === '--sender') {
  const payload = fs.readFileSync(process.argv[3]);
  const port = Number(process.argv[4]);
  const socket = net.connect({ port, host: '127.0.0.1' }, () => {
    process.send({ type: 'start', at: Date.now() });
    const CHUNK = 256 * 1024;
    let offset = 0;
    const pump = () => {
      while (offset < payload.length) {
        const end = Math.min(payload.length, offset + CHUNK);
        const more = socket.write(payload.subarray(offset, end));
        offset = end;
        if (!more) return socket.once('drain', pump);
      }
      process.send({ type: 'sent', at: Date.now() });
    };
    pump();
  });
  // ACK lines are read (and dropped) so they never fill the socket; the parent times the commits.
  socket.on('data', () => undefined);
  socket.on('error', (error) => {
    process.send({ type: 'error', message: error.message });
  });
  process.on('message', (message) => {
    if (message === 'stop') socket.end(() => process.exit(0));
  });
  return;
}

// --- payload builder (child process): `--build <file> <count>` ------------------------------------------
// Built in its own process so the collector's heap starts clean (the builder's garbage is not collected on
// the collector's time).
if (process.argv[2] === '--build') {
  const { payload, messageBytes } = buildPayload(Number(process.argv[4]));
  fs.writeFileSync(process.argv[3], payload);
  process.stdout.write(JSON.stringify({ bytes: payload.length, messageBytes }));
  return;
}

// --- parent ------------------------------------------------------------------------------------------
function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}
const EVENTS = Number(option('events', 200000));
const SYNC = option('sync', 'FULL');
const WRITER = option('writer', 'thread');
const RUNS = Number(option('runs', 1));
const RULES = !process.argv.includes('--no-rules');
// --no-rsyslog: only the collector (quicker when comparing CPU per event of two builds).
const RSYSLOG = !process.argv.includes('--no-rsyslog');
// Each run's files (the collector's database, rsyslog's output) are deleted after it unless --keep-files:
// on this machine (a VM) writing into page-cache pages the guest never touched costs about 3x, so with
// every run's files kept, the runs after the first gigabyte measured that rather than the programs (a
// 243 MB file in 4 KB writes: ~215 ms while earlier ones are deleted, ~700 ms from the 6th kept one on).
const KEEP = process.argv.includes('--keep-files');

function load(name) {
  try {
    return require(path.join(DIST, name));
  } catch (error) {
    console.error(`cannot load dist/src/${name} (${error.message}); run \`npm run build\` first`);
    process.exit(2);
  }
}
const { Collector } = load('collector');
const detect = RULES ? load('detect') : undefined;

/** A realistic mix: mostly http_request, some login failures and successes, a few errors, from 50 IPs. */
function buildPayload(count) {
  const { EventSource } = load('events');
  const { sanitizeEvent } = load('sanitize');
  const { formatRfc5424 } = load('ship');
  const source = new EventSource({ app: 'juice-shop', host: 'bench-host', hmacKey: 'bench' });
  const frames = [];
  let bytes = 0;
  const paths = ['/rest/products/search?q=apple', '/api/Quantitys/', '/rest/basket/1', '/rest/user/whoami', '/assets/i18n/en.json'];
  for (let i = 0; i < count; i++) {
    const ip = `10.1.${i % 50}.${(i * 7) % 250}`;
    const who = { ip, userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
    const kind = i % 20;
    let input;
    if (kind === 0) {
      input = { type: 'authn_login_fail', outcome: 'failure', reason: 'bad credentials', email: `user${i % 300}@juice-sh.op`, who, where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: `r${i}`, status: 401 } };
    } else if (kind === 1) {
      input = { type: 'authn_login_success', outcome: 'success', email: `user${i % 300}@juice-sh.op`, who: { ...who, userId: String(i % 300) }, where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: `r${i}`, status: 200 } };
    } else if (kind === 2) {
      input = { type: 'sys_error', outcome: 'error', description: 'SequelizeDatabaseError: SQLITE_ERROR', detail: { incident: `inc-${i}` } };
    } else {
      const url = paths[i % paths.length];
      input = { type: 'http_request', outcome: 'info', who, where: { method: 'GET', route: url.split('?')[0], url, requestId: `r${i}`, status: 200 }, detail: { durationMs: i % 90 } };
    }
    const message = Buffer.from(formatRfc5424(sanitizeEvent(source.create(input))));
    const frame = Buffer.concat([Buffer.from(`${message.length} `), message]);
    frames.push(frame);
    bytes += message.length;
  }
  return { payload: Buffer.concat(frames), messageBytes: bytes, instance: source.instance };
}

function startSender(file, port) {
  const child = fork(__filename, ['--sender', file, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.type === 'start') resolve(message.at);
      if (message.type === 'error') reject(new Error(`sender: ${message.message}`));
    });
    child.once('exit', (code) => reject(new Error(`sender exited ${code}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.send('stop');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return { started, stop };
}

async function runCollector(dir, file, count) {
  const dbPath = path.join(dir, `collector-${Date.now()}.db`);
  const detector = detect ? detect.createDetector() : undefined;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  let stored = 0;
  // Threads that exist before the collector starts are V8's (GC, compiler); the ones it starts are its writer.
  const helperThreads = new Set(Object.keys(threadTicks()));
  const collector = await Collector.start({
    dbPath,
    tcp: { port: 0 },
    udp: false,
    store: { synchronous: SYNC, writer: WRITER },
  });
  // As the collector service wires it: the rules on each record as it is taken, done when the last is committed.
  collector.subscribe({
    onIntake: (record) => {
      stored++;
      if (detector) detector.onRecord(record);
    },
  });
  collector.store.subscribe({
    onCommit: (commit) => {
      if (commit.lastId >= count && stored >= count) resolveDone(Date.now());
    },
  });
  const sender = startSender(file, collector.addresses().tcp.port);
  const rssBefore = process.memoryUsage().rss;
  const t0 = await sender.started;
  // process.cpuUsage covers every thread of this process: the parsing thread, the store's writer, V8's helpers.
  const cpu0 = process.cpuUsage();
  const threads0 = threadTicks();
  const t1 = await done;
  const cpu = process.cpuUsage(cpu0);
  const { main, started: writer, helpers } = threadSplit(threads0, threadTicks(), helperThreads, count);
  const threads = { main, writer, helpers };
  const rssAfter = process.memoryUsage().rss;
  await sender.stop();
  const stats = collector.stats();
  const health = collector.store.health();
  await collector.close();
  const fileBytes = fs.statSync(dbPath).size;
  if (!KEEP) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(dbPath + suffix, { force: true });
  return {
    seconds: (t1 - t0) / 1000,
    rate: count / ((t1 - t0) / 1000),
    cpuMicrosPerEvent: (cpu.user + cpu.system) / count,
    threads,
    rejected: Object.entries(stats.rejected).filter(([, n]) => n > 0),
    lastId: health.lastId,
    rssGrowthMb: (rssAfter - rssBefore) / 1e6,
    dbMb: fileBytes / 1e6,
    alerts: detector ? detector.stats().alerts.opened : undefined,
  };
}

function findRsyslogd() {
  return ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((file) => fs.existsSync(file));
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`rsyslogd did not open port ${port}`);
}

async function runRsyslog(rsyslogd, dir, file, count, expectedBytes) {
  const work = fs.mkdtempSync(path.join(dir, 'rsyslog-'));
  const port = await freePort();
  const out = path.join(work, 'out.log');
  fs.writeFileSync(
    path.join(work, 'rsyslog.conf'),
    `global(workDirectory="${work}" maxMessageSize="64k")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="bench") { action(type="omfile" file="${out}" template="raw") }
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="bench")
`,
  );
  const daemon = spawn(rsyslogd, ['-n', '-f', path.join(work, 'rsyslog.conf'), '-i', path.join(work, 'rsyslogd.pid')], { stdio: 'ignore' });
  // CPU time of rsyslogd (all its threads) from /proc, in clock ticks (100 per second on Linux).
  const cpuTicks = () => {
    const fields = fs.readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  try {
    await waitForPort(port);
    const sender = startSender(file, port);
    const t0 = await sender.started;
    const ticks0 = cpuTicks();
    // rsyslog does not acknowledge: done when its file holds every message (raw message + LF each).
    let t1;
    for (;;) {
      let size = 0;
      try {
        size = fs.statSync(out).size;
      } catch {
        size = 0;
      }
      if (size >= expectedBytes) {
        t1 = Date.now();
        break;
      }
      if (Date.now() - t0 > 600000) throw new Error(`rsyslog wrote ${size} of ${expectedBytes} bytes in 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ticks = cpuTicks() - ticks0;
    await sender.stop();
    const lines = fs.readFileSync(out, 'latin1').split('\n').length - 1;
    return { seconds: (t1 - t0) / 1000, rate: count / ((t1 - t0) / 1000), cpuMicrosPerEvent: (ticks * 10000) / count, lines };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => (daemon.exitCode !== null ? resolve() : daemon.once('exit', resolve)));
    if (!KEEP) fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-bench-ingest-'));
  try {
    process.stdout.write(`building ${EVENTS} events... `);
    const file = path.join(dir, 'payload.bin');
    const built = spawnSync(process.execPath, [__filename, '--build', file, String(EVENTS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (built.status !== 0) throw new Error(`building the payload failed (${built.status})`);
    const { bytes, messageBytes } = JSON.parse(built.stdout);
    console.log(`${(bytes / 1e6).toFixed(1)} MB, ${Math.round(messageBytes / EVENTS)} bytes per message`);
    console.log(`cpus: ${os.cpus().length}, load average: ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`);
    console.log(`collector: writer ${WRITER}, synchronous ${SYNC}, rules ${RULES ? 'on (default config)' : 'off'}`);
    const rsyslogd = RSYSLOG ? findRsyslogd() : undefined;
    for (let run = 1; run <= RUNS; run++) {
      const ours = await runCollector(dir, file, EVENTS);
      console.log(
        `run ${run}: collector ${Math.round(ours.rate).toLocaleString('en')} events/s (${ours.seconds.toFixed(2)} s, ` +
          `${ours.cpuMicrosPerEvent.toFixed(1)} us CPU per event: main ${ours.threads.main.toFixed(1)}, writer ${ours.threads.writer.toFixed(1)}, ` +
          `V8 helpers ${ours.threads.helpers.toFixed(1)}; last id ${ours.lastId}, ` +
          `rss +${ours.rssGrowthMb.toFixed(0)} MB, db ${ours.dbMb.toFixed(0)} MB${ours.alerts !== undefined ? `, ${ours.alerts} alerts` : ''}` +
          `${ours.rejected.length > 0 ? `, rejected ${JSON.stringify(Object.fromEntries(ours.rejected))}` : ''})`,
      );
      if (rsyslogd === undefined) {
        if (RSYSLOG) console.log('rsyslogd is absent (install rsyslog): no comparison');
        continue;
      }
      const theirs = await runRsyslog(rsyslogd, dir, file, EVENTS, messageBytes + EVENTS);
      console.log(
        `run ${run}: rsyslog   ${Math.round(theirs.rate).toLocaleString('en')} events/s (${theirs.seconds.toFixed(2)} s, ` +
          `${theirs.cpuMicrosPerEvent.toFixed(1)} us CPU per event, ${theirs.lines} lines in its file)`,
      );
      console.log(`run ${run}: ratio collector/rsyslog = ${(ours.rate / theirs.rate).toFixed(2)} (target >= 0.3; collector target >= 100,000 events/s)`);
      console.log(`run ${run}: CPU per event collector/rsyslog = ${(ours.cpuMicrosPerEvent / theirs.cpuMicrosPerEvent).toFixed(2)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
