import type Database from 'better-sqlite3';

/**
 * The alert tables, kept in the collector's SQLite file by default (their own connection, their own
 * tables; the hash-chained `events` table is not touched). `alerts` holds each alert's latest state
 * (upserted by uuid, never moving back to an older revision), `alert_changes` every change as it was
 * streamed, `alert_records` the stored record ids behind each alert (capped per alert).
 */
const DDL = `
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  rule_id TEXT NOT NULL,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  severity INTEGER NOT NULL,
  level TEXT NOT NULL,
  key_kind TEXT NOT NULL,
  key_value TEXT NOT NULL,
  key_json TEXT NOT NULL,
  state TEXT NOT NULL,
  first_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  count INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  summary TEXT NOT NULL,
  records_json TEXT NOT NULL,
  record_count INTEGER NOT NULL DEFAULT 0,
  closed_at TEXT,
  closed_by TEXT,
  stored_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  run_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (id) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts (key_value);
CREATE INDEX IF NOT EXISTS alerts_by_rule ON alerts (rule_id);
CREATE TABLE IF NOT EXISTS alert_changes (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  revision INTEGER NOT NULL,
  count INTEGER NOT NULL,
  summary TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_changes_by_alert ON alert_changes (alert_id);
CREATE TABLE IF NOT EXISTS alert_records (
  alert_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (alert_id, record_id)
) WITHOUT ROWID;
`;

export function createAlertSchema(db: Database.Database): void {
  db.exec(DDL);
}
