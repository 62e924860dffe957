import type Database from 'better-sqlite3';
import { EVENT_COLUMNS, QUERY_COLUMNS, canonicalContent, type ColumnValue } from './chain';

/**
 * The store's tables. `events` is append-only (triggers refuse UPDATE and DELETE through SQL; someone who
 * drops the triggers or edits the file is caught by verifyChain). A row keeps the whole record as its
 * canonical content (chain.ts: what the hash covers) and, apart, the columns queries filter on
 * (QUERY_COLUMNS). Version 1 kept every field in a column of its own: 24 columns bound and written per row
 * against 14 now (the writer thread spent ~1 us a row more); a version 1 file is migrated when opened, with
 * its hashes unchanged (the content is the same). `sources`, `gaps` and `chain_head` are bookkeeping and
 * change as events arrive. Indexes are few on purpose: each costs every insert. Time ranges need none (ids
 * follow the collector's clock; queries.ts searches the id range).
 */
export const SCHEMA_VERSION = 2;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  instance TEXT NOT NULL,
  app TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  contiguous_seq INTEGER NOT NULL,
  events INTEGER NOT NULL,
  duplicates INTEGER NOT NULL,
  UNIQUE (host, instance)
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL,
  format TEXT NOT NULL,
  severity INTEGER,
  host TEXT,
  event_type TEXT,
  source_id INTEGER,
  seq INTEGER,
  user_id TEXT,
  email_id TEXT,
  ip TEXT,
  content TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (event_type) WHERE event_type IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_source_seq ON events (source_id, seq) WHERE source_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_email ON events (email_id) WHERE email_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS gaps (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  detected_at TEXT NOT NULL,
  filled_at TEXT
);
CREATE INDEX IF NOT EXISTS gaps_open ON gaps (source_id) WHERE filled_at IS NULL;
CREATE TABLE IF NOT EXISTS chain_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_id INTEGER NOT NULL,
  last_hash BLOB NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS chain_head_keep BEFORE DELETE ON chain_head
BEGIN SELECT RAISE(ABORT, 'the chain head is kept'); END;
`;

export const APPEND_ONLY_TRIGGERS = ['events_append_only_update', 'events_append_only_delete'] as const;

/** An `events` row's columns in the order rows are inserted: id, the query columns, the content, the chain. */
export const EVENT_ROW_COLUMNS = ['id', ...QUERY_COLUMNS, 'content', 'prev_hash', 'hash'] as const;

/** A row of version 1's events table (every field a column). */
export interface LegacyEventRow {
  id: number;
  received_at: string;
  transport: string;
  peer: string;
  format: string;
  facility: number | null;
  severity: number | null;
  timestamp: string | null;
  host: string | null;
  app: string | null;
  proc_id: string | null;
  msg_id: string | null;
  sd: string | null;
  message: string;
  flags: string | null;
  event_type: string | null;
  event_time: string | null;
  source_id: number | null;
  seq: number | null;
  user_id: string | null;
  email_id: string | null;
  ip: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

/** A version 1 row's values in EVENT_COLUMNS order (its columns had those names). */
export function legacyRowValues(row: LegacyEventRow): ColumnValue[] {
  return EVENT_COLUMNS.map((name) => row[name]);
}

/** Whether the events table is version 1's (its own `message` column); false when there is none yet. */
export function isLegacy(db: Database.Database): boolean {
  const columns = db.prepare("SELECT name FROM pragma_table_info('events')").pluck().all() as string[];
  return columns.includes('message') && !columns.includes('content');
}

/**
 * Version 1 -> 2 in one transaction: every row moves with its id, content and hashes unchanged (the chain
 * stays valid and verify still passes), guards and indexes are made again. Rows already damaged move as
 * they are: verify reports them as before.
 */
function migrateFromVersion1(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`DROP TRIGGER IF EXISTS events_append_only_update;
      DROP TRIGGER IF EXISTS events_append_only_delete;
      DROP INDEX IF EXISTS events_by_type;
      DROP INDEX IF EXISTS events_by_source_seq;
      DROP INDEX IF EXISTS events_by_user;
      DROP INDEX IF EXISTS events_by_email;
      ALTER TABLE events RENAME TO events_version1;`);
    db.exec(DDL);
    const insert = db.prepare(`INSERT INTO events (${EVENT_ROW_COLUMNS.join(', ')}) VALUES (${EVENT_ROW_COLUMNS.map(() => '?').join(', ')})`);
    // In pages (a connection cannot write while it iterates).
    const page = db.prepare('SELECT * FROM events_version1 WHERE id > ? ORDER BY id LIMIT 2000');
    for (let after = -Infinity; ; ) {
      const rows = page.all(after) as LegacyEventRow[];
      if (rows.length === 0) break;
      for (const row of rows) insert.run(row.id, ...QUERY_COLUMNS.map((name) => row[name]), canonicalContent(legacyRowValues(row)), row.prev_hash, row.hash);
      after = rows[rows.length - 1].id;
    }
    db.exec('DROP TABLE events_version1');
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION));
  }).immediate();
}

export function createSchema(db: Database.Database): void {
  if (isLegacy(db)) migrateFromVersion1(db);
  db.exec(DDL);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
}
