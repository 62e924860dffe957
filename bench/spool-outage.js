#!/usr/bin/env node
'use strict';
// P5 (issue 7): the collector crashes (SIGKILL) and stays away for 30 s while a sender logs 1000 events/s,
// then a new collector process comes up on the same port and database. How long until every event is stored, and how many were lost: the a09 audit
// logger (spool, RFC 5424 over TCP, ACKs) and, in the same outage, winston + winston-syslog 2.7.1 over TCP.
// The collector (src/collector, real SQLite store) and each sender run in their own processes.
//
//   node bench/spool-outage.js [--outage 30] [--rate 1000] [--warm 3]
// Requires a build (`npm run build`; A09_BENCH_DIST=<dir> for another one).

const path = require('node:path');
const { option, scratchDir, sleep, startChild } = require('./lib/harness');

async function run(options = {}) {
  const outageSeconds = Number(options.outageSeconds ?? 30);
  const rate = Number(options.rate ?? 1000);
  const warmSeconds = Number(options.warmSeconds ?? 3);
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const dir = scratchDir('a09-bench-outage-');
  const startCollector = (port) => startChild(path.join(__dirname, 'lib', 'collector-child.js'), [], { env: { BENCH_DIR: dir, BENCH_PORT: String(port) } });
  let collector = startCollector(0);
  const senders = {};
  try {
    const { port } = await collector.ready;
    for (const kind of ['a09', 'winston']) {
      senders[kind] = startChild(path.join(__dirname, 'lib', 'event-emitter-child.js'), [kind, String(port)], {
        env: { BENCH_DIR: path.join(dir, kind) },
      });
      await senders[kind].ready;
    }
    await sleep(500);
    for (const sender of Object.values(senders)) await sender.ask('begin', { rate });
    await sleep(warmSeconds * 1000);
    const before = await collector.ask('counts');
    const crashed = new Promise((resolve) => collector.child.once('exit', resolve));
    collector.child.kill('SIGKILL');
    await crashed;
    log(`P5: collector killed; down for ${outageSeconds} s while both senders log ${rate} events/s`);
    await sleep(outageSeconds * 1000);
    const emitted = {};
    for (const [kind, sender] of Object.entries(senders)) emitted[kind] = (await sender.ask('halt')).emitted;
    collector = startCollector(port);
    await collector.ready;
    const upAt = Date.now();
    log('P5: collector back; waiting for every a09 event to be stored');
    let catchUpMs;
    let counts;
    while (Date.now() - upAt < 120_000) {
      counts = await collector.ask('counts');
      if (counts.a09.stored >= emitted.a09) {
        catchUpMs = Date.now() - upAt;
        break;
      }
      await sleep(20);
    }
    // winston-syslog gets the same chance: until it says its queue is empty (or 15 s), then a second more.
    await senders.winston.ask('drain', { timeoutMs: 15_000 });
    await sleep(1000);
    counts = await collector.ask('counts');
    return {
      outageSeconds,
      rate,
      storedBeforeOutage: { a09: before.a09.stored, winston: before.winston.stored },
      a09: {
        emitted: emitted.a09,
        stored: counts.a09.stored,
        duplicatesDropped: counts.a09.duplicates,
        lost: emitted.a09 - counts.a09.stored,
        catchUpMs: catchUpMs ?? NaN,
        ownEvents: counts.a09.other,
      },
      winston: { emitted: emitted.winston, stored: counts.winston.stored, lost: emitted.winston - counts.winston.stored },
    };
  } finally {
    await Promise.all(Object.values(senders).map((sender) => sender.stop()));
    await collector.stop();
  }
}

module.exports = { run };

if (require.main === module) {
  const argv = process.argv.slice(2);
  run({ outageSeconds: option(argv, 'outage', 30), rate: option(argv, 'rate', 1000), warmSeconds: option(argv, 'warm', 3) })
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
