import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Alert, AlertChange, AlertChangeKind, AlertKey, AlertState, EvidenceRef } from '../detect';
import { createAlertSchema } from './alert-schema';

export interface AlertStoreOptions {
  /** SQLite file; the service uses the collector's own file (other tables, other connection). */
  path: string;
  /** Commit when this many changes wait (default 500)... */
  batchSize?: number;
  /** ...or this long after the first one (default 20 ms). Queries commit what waits first. */
  batchDelayMs?: number;
  /** Record ids linked to one alert at most (default 1000): a flood folded into one alert stays bounded. */
  maxRecordsPerAlert?: number;
  /**
   * NORMAL (default): alerts survive a crash of the process, maybe not a power loss. They are derived
   * from the events, which the collector stores with FULL.
   */
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
  /** This run's id: alerts another run left open are closed by closeStale(). */
  runId?: string;
  onError?: (error: Error) => void;
}

/** Who closed an alert: the detector (quiet period, source back) or a restart of the collector. */
export type ClosedBy = 'detector' | 'restart';

/** An alert as stored: the detector's Alert plus the store's row id and bookkeeping. */
export interface StoredAlert extends Alert {
  /** Row id: increases in the order alerts opened; the paging cursor (`before`). */
  rowId: number;
  /** Record ids linked to the alert in all; `records` is the latest bounded snapshot from the detector. */
  recordCount: number;
  closedBy?: ClosedBy;
  /** When the latest change was stored. */
  updatedAt: string;
}

export interface StoredAlertChange {
  kind: AlertChangeKind;
  revision: number;
  count: number;
  summary: string;
  at: string;
}

export interface AlertDetail {
  alert: StoredAlert;
  changes: StoredAlertChange[];
  /** Every linked record id (up to maxRecordsPerAlert), ascending. */
  records: EvidenceRef[];
}

/** Filters for stored alerts; all optional, combined with AND. Newest (highest rowId) first. */
export interface AlertQuery {
  state?: AlertState;
  ruleId?: string;
  type?: string;
  /** The alert key's canonical value (`ip:203.0.113.7`, `email:<id>`, `source:<host>/<instance>`). */
  key?: string;
  /** Only severities up to this (0 emergency .. 7 debug). */
  maxSeverity?: number;
  /** lastAt >= since (ISO 8601). */
  since?: string;
  /** firstAt < until (ISO 8601). */
  until?: string;
  /** Substring of the title, summary or key value (case-insensitive for ASCII). */
  text?: string;
  /** Paging: rowIds less than this. */
  before?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface AlertCounts {
  total: number;
  open: number;
  closed: number;
  changes: number;
  pending: number;
}

interface AlertRow {
  id: number;
  uuid: string;
  rule_id: string;
  type: string;
  title: string;
  severity: number;
  level: string;
  key_json: string;
  state: string;
  first_at: string;
  last_at: string;
  count: number;
  revision: number;
  summary: string;
  records_json: string;
  record_count: number;
  closed_at: string | null;
  closed_by: string | null;
  updated_at: string;
}

export const MAX_ALERT_LIMIT = 1000;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function rowToAlert(row: AlertRow): StoredAlert {
  const alert: StoredAlert = {
    rowId: row.id,
    id: row.uuid,
    ruleId: row.rule_id,
    type: row.type,
    title: row.title,
    severity: row.severity as Alert['severity'],
    level: row.level as Alert['level'],
    key: parseJson<AlertKey>(row.key_json, { kind: 'detector', value: '?' }),
    state: row.state as AlertState,
    firstAt: row.first_at,
    lastAt: row.last_at,
    count: row.count,
    revision: row.revision,
    records: parseJson<EvidenceRef[]>(row.records_json, []),
    recordCount: row.record_count,
    summary: row.summary,
    updatedAt: row.updated_at,
  };
  if (row.closed_at !== null) alert.closedAt = row.closed_at;
  if (row.closed_by !== null) alert.closedBy = row.closed_by as ClosedBy;
  return alert;
}

/**
 * Alert persistence: every change the detector streams (opened, updated, closed) is stored, batched in
 * one transaction per batch, with the record ids behind each alert, and can be queried back.
 */
export class AlertStore {
  readonly path: string;
  readonly runId: string;
  private readonly db: Database.Database;
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly maxRecords: number;
  private readonly onError: (error: Error) => void;
  private pending: Array<{ change: AlertChange; at: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly statements: {
    upsert: Database.Statement;
    rowId: Database.Statement;
    insertChange: Database.Statement;
    linkRecord: Database.Statement;
    recordCount: Database.Statement;
    setRecordCount: Database.Statement;
    byUuid: Database.Statement;
    changes: Database.Statement;
    records: Database.Statement;
  };

  constructor(options: AlertStoreOptions) {
    this.path = options.path;
    this.runId = options.runId ?? randomUUID();
    this.batchSize = options.batchSize ?? 500;
    this.batchDelayMs = options.batchDelayMs ?? 20;
    this.maxRecords = options.maxRecordsPerAlert ?? 1000;
    this.onError = options.onError ?? ((error) => process.stderr.write(`alert store: ${error.message}\n`));
    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    createAlertSchema(this.db);
    const db = this.db;
    this.statements = {
      // An older revision arriving late never overwrites a newer one.
      upsert: db.prepare(
        `INSERT INTO alerts (uuid, rule_id, type, title, severity, level, key_kind, key_value, key_json, state, first_at, last_at,
           count, revision, summary, records_json, closed_at, closed_by, stored_at, updated_at, run_id)
         VALUES (@uuid, @ruleId, @type, @title, @severity, @level, @keyKind, @keyValue, @keyJson, @state, @firstAt, @lastAt,
           @count, @revision, @summary, @recordsJson, @closedAt, @closedBy, @at, @at, @runId)
         ON CONFLICT (uuid) DO UPDATE SET state = excluded.state, last_at = excluded.last_at, count = excluded.count,
           revision = excluded.revision, summary = excluded.summary, records_json = excluded.records_json,
           closed_at = excluded.closed_at, closed_by = excluded.closed_by, updated_at = excluded.updated_at
         WHERE excluded.revision >= alerts.revision`,
      ),
      rowId: db.prepare('SELECT id FROM alerts WHERE uuid = ?').pluck(),
      insertChange: db.prepare('INSERT INTO alert_changes (alert_id, kind, revision, count, summary, at) VALUES (?, ?, ?, ?, ?, ?)'),
      linkRecord: db.prepare('INSERT OR IGNORE INTO alert_records (alert_id, record_id, seq) VALUES (?, ?, ?)'),
      recordCount: db.prepare('SELECT record_count FROM alerts WHERE id = ?').pluck(),
      setRecordCount: db.prepare('UPDATE alerts SET record_count = ? WHERE id = ?'),
      byUuid: db.prepare('SELECT * FROM alerts WHERE uuid = ?'),
      changes: db.prepare('SELECT kind, revision, count, summary, at FROM alert_changes WHERE alert_id = ? ORDER BY id'),
      records: db.prepare('SELECT record_id AS recordId, seq FROM alert_records WHERE alert_id = ? ORDER BY record_id LIMIT ?'),
    };
  }

  /** Queue a change (as the detector streams it); committed within batchDelayMs. */
  record(change: AlertChange): void {
    if (this.closed) return;
    this.pending.push({ change, at: new Date().toISOString() });
    if (this.pending.length >= this.batchSize) this.flush();
    else this.schedule();
  }

  /** Commit what waits; false when the commit failed (the batch is kept and retried). */
  flush(): boolean {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || this.closed) return true;
    const batch = this.pending;
    try {
      this.db.transaction(() => {
        for (const { change, at } of batch) this.write(change, at);
      })();
    } catch (error) {
      this.onError(error as Error);
      this.schedule(1000);
      return false;
    }
    this.pending = [];
    return true;
  }

  private write(change: AlertChange, at: string): void {
    const s = this.statements;
    const alert = change.alert;
    s.upsert.run({
      uuid: alert.id,
      ruleId: alert.ruleId,
      type: alert.type,
      title: alert.title,
      severity: alert.severity,
      level: alert.level,
      keyKind: alert.key.kind,
      keyValue: alert.key.value,
      keyJson: JSON.stringify(alert.key),
      state: alert.state,
      firstAt: alert.firstAt,
      lastAt: alert.lastAt,
      count: alert.count,
      revision: alert.revision,
      summary: alert.summary,
      recordsJson: JSON.stringify(alert.records),
      closedAt: alert.closedAt ?? null,
      closedBy: alert.state === 'closed' ? 'detector' : null,
      at,
      runId: this.runId,
    });
    const rowId = s.rowId.get(alert.id) as number;
    s.insertChange.run(rowId, change.kind, alert.revision, alert.count, alert.summary, at);
    let linked = s.recordCount.get(rowId) as number;
    const before = linked;
    for (const ref of alert.records) {
      if (linked >= this.maxRecords) break;
      linked += s.linkRecord.run(rowId, ref.recordId, ref.seq).changes;
    }
    if (linked !== before) s.setRecordCount.run(linked, rowId);
  }

  private schedule(delayMs = this.batchDelayMs): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Close the alerts an earlier run left open: the detector that opened them is gone and will never
   * close them. Returns how many were closed.
   */
  closeStale(): number {
    this.flush();
    const at = new Date().toISOString();
    return this.db.transaction(() => {
      const stale = this.db.prepare("SELECT id, count, revision FROM alerts WHERE state = 'open' AND run_id != ?").all(this.runId) as Array<{
        id: number;
        count: number;
        revision: number;
      }>;
      const close = this.db.prepare(
        "UPDATE alerts SET state = 'closed', closed_at = ?, closed_by = 'restart', revision = revision + 1, updated_at = ? WHERE id = ?",
      );
      for (const row of stale) {
        close.run(at, at, row.id);
        this.statements.insertChange.run(row.id, 'alert-close', row.revision + 1, row.count, 'closed: the collector restarted', at);
      }
      return stale.length;
    })();
  }

  list(query: AlertQuery = {}): StoredAlert[] {
    this.flush();
    const where: string[] = [];
    const params: Array<string | number> = [];
    const equal = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('state', query.state);
    equal('rule_id', query.ruleId);
    equal('type', query.type);
    equal('key_value', query.key);
    if (query.maxSeverity !== undefined) {
      where.push('severity <= ?');
      params.push(query.maxSeverity);
    }
    if (query.since !== undefined) {
      where.push('last_at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('first_at < ?');
      params.push(query.until);
    }
    if (query.text !== undefined && query.text.length > 0) {
      where.push("(title LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\' OR key_value LIKE ? ESCAPE '\\')");
      const pattern = `%${escapeLike(query.text)}%`;
      params.push(pattern, pattern, pattern);
    }
    if (query.before !== undefined) {
      where.push('id < ?');
      params.push(query.before);
    }
    params.push(Math.max(1, Math.min(MAX_ALERT_LIMIT, Math.floor(query.limit ?? 100))));
    const sql = `SELECT * FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params) as AlertRow[]).map(rowToAlert);
  }

  get(uuid: string): AlertDetail | undefined {
    this.flush();
    const row = this.statements.byUuid.get(uuid) as AlertRow | undefined;
    if (row === undefined) return undefined;
    return {
      alert: rowToAlert(row),
      changes: this.statements.changes.all(row.id) as StoredAlertChange[],
      records: this.statements.records.all(row.id, this.maxRecords) as EvidenceRef[],
    };
  }

  counts(): AlertCounts {
    this.flush();
    const row = this.db
      .prepare("SELECT COUNT(*) AS total, COALESCE(SUM(state = 'open'), 0) AS open FROM alerts")
      .get() as { total: number; open: number };
    const changes = this.db.prepare('SELECT COUNT(*) FROM alert_changes').pluck().get() as number;
    return { total: row.total, open: row.open, closed: row.total - row.open, changes, pending: this.pending.length };
  }

  /** Commit what waits and close the connection. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.db.close();
  }
}
