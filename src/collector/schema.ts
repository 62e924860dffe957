import type Database from 'better-sqlite3';

/**
 * The store's tables. `events` is append-only (triggers refuse UPDATE and DELETE through SQL; someone who
 * drops the triggers or edits the file is caught by verifyChain). `sources`, `gaps` and `chain_head` are
 * bookkeeping and change as events arrive. Indexes are few on purpose: each costs every insert. Time
 * ranges need none (ids follow the collector's clock; queries.ts searches the id range).
 */
export const SCHEMA_VERSION = 1;

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
  transport TEXT NOT NULL,
  peer TEXT NOT NULL,
  format TEXT NOT NULL,
  facility INTEGER,
  severity INTEGER,
  timestamp TEXT,
  host TEXT,
  app TEXT,
  proc_id TEXT,
  msg_id TEXT,
  sd TEXT,
  message TEXT NOT NULL,
  flags TEXT,
  event_type TEXT,
  event_time TEXT,
  source_id INTEGER,
  seq INTEGER,
  user_id TEXT,
  email_id TEXT,
  ip TEXT,
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

export function createSchema(db: Database.Database): void {
  db.exec(DDL);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
}
