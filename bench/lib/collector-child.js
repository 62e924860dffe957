'use strict';
// The project's collector (src/collector: parse, sequence tracking, SQLite store with the hash chain, ACKs)
// in its own process, counting what is stored per sender. For the outage benchmark (P5) the parent kills
// it (SIGKILL: a crash, connections reset, nothing flushed) and starts a new one on the same port and
// database, which first counts what its predecessor stored.
// Env: BENCH_DIR (scratch directory), BENCH_PORT (0: any). Replies { port } when ready.
// Command: counts -> { a09: { stored, contiguous, duplicates }, winston: { stored, ... } }.

const fs = require('node:fs');
const path = require('node:path');
const { loadDist, serveCommands } = require('./harness');

const { Collector } = loadDist('src/collector');
const dbPath = path.join(process.env.BENCH_DIR, 'collector.db');

/** Which seqs arrived: a growable bitmap, and how far they run from 1 without a hole. */
class SeqSet {
  constructor() {
    this.bits = new Uint8Array(1 << 16);
    this.stored = 0;
    this.duplicates = 0;
    this.contiguous = 0;
  }

  add(seq) {
    if (!Number.isSafeInteger(seq) || seq < 1) return;
    while (seq >= this.bits.length) {
      const grown = new Uint8Array(this.bits.length * 2);
      grown.set(this.bits);
      this.bits = grown;
    }
    if (this.bits[seq] === 1) {
      this.duplicates++;
      return;
    }
    this.bits[seq] = 1;
    this.stored++;
    while (this.contiguous + 1 < this.bits.length && this.bits[this.contiguous + 1] === 1) this.contiguous++;
  }

  summary() {
    return { stored: this.stored, contiguous: this.contiguous, duplicates: this.duplicates };
  }
}

/** The sender's http_request events by seq; anything else the a09 logger sent itself, by type. */
const a09 = new SeqSet();
const a09Other = {};
const winston = new SeqSet();
let collector;
let port = Number(process.env.BENCH_PORT ?? 0);

/** winston-syslog messages carry their own counter: `bench n=<n>`. */
function winstonCounter(message) {
  const n = /\bn=(\d+)/.exec(message);
  return n === null ? undefined : Number(n[1]);
}

function onRecord(record) {
  if (record.event !== undefined) {
    if (record.event.type === 'http_request') a09.add(record.event.seq);
    else a09Other[record.event.type] = (a09Other[record.event.type] ?? 0) + 1;
  } else if (winstonCounter(record.message) !== undefined) winston.add(winstonCounter(record.message));
}

/** What an earlier collector process stored in the same database. */
function countStored() {
  if (!fs.existsSync(dbPath)) return;
  const Database = require('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  try {
    for (const row of db.prepare("SELECT seq, event_type FROM events WHERE seq IS NOT NULL").iterate()) {
      if (row.event_type === 'http_request') a09.add(row.seq);
      else a09Other[row.event_type] = (a09Other[row.event_type] ?? 0) + 1;
    }
    // MSG lives in the row's content (schema 2): a LIKE narrows the rows, decodeContent reads MSG.
    const { decodeContent, MESSAGE_INDEX } = loadDist('src/collector/chain');
    for (const row of db.prepare("SELECT content FROM events WHERE seq IS NULL AND content LIKE '%bench n=%'").iterate()) {
      const values = decodeContent(row.content);
      const n = values === undefined ? undefined : winstonCounter(values[MESSAGE_INDEX]);
      if (n !== undefined) winston.add(n);
    }
  } finally {
    db.close();
  }
}

async function up() {
  collector = await Collector.start({ dbPath, tcp: { port, host: '127.0.0.1' }, udp: false, onError: () => undefined });
  collector.subscribe({ onRecord });
  port = collector.addresses().tcp.port;
}

async function down() {
  const running = collector;
  collector = undefined;
  await running?.close();
}

async function main() {
  countStored();
  // Duplicates seen on reading the old database are not the sender's.
  a09.duplicates = 0;
  winston.duplicates = 0;
  await up();
  serveCommands({
    counts: () => ({ a09: { ...a09.summary(), other: a09Other }, winston: winston.summary() }),
    stop: down,
  });
  process.send({ port });
}

main().catch((error) => {
  console.error('collector-child:', error);
  process.exit(1);
});
