import type Database from 'better-sqlite3';
import type { EventType } from '../events';
import type { CollectedRecord, RecordFormat, SequenceGap } from './record';
import { MESSAGE_INDEX, decodeContent } from './chain';
import { rowToRecord, type EventRow } from './rows';

/** Filters for stored records; all optional, combined with AND. */
/** A row of the sources table as the store and the queries read it. */
export interface SourceRow {
  id: number;
  app: string;
  first_seen: string;
  last_seen: string;
  last_seq: number;
  contiguous_seq: number;
  events: number;
  duplicates: number;
}

export interface EventQuery {
  /** Event type(s) (our events only). */
  type?: EventType | EventType[];
  format?: RecordFormat;
  /** HOSTNAME as received (any record). */
  host?: string;
  /** The source instance (our events only). */
  instance?: string;
  userId?: string;
  emailId?: string;
  /** who.ip of our events. */
  ip?: string;
  /** Only severities up to this (0 emergency .. 7 debug). */
  maxSeverity?: number;
  /** receivedAt >= since (ISO 8601). */
  since?: string;
  /** receivedAt < until (ISO 8601). */
  until?: string;
  /** Substring of MSG, case-insensitive for ASCII. */
  text?: string;
  /** Paging: ids greater than this (ascending order unless `order` says otherwise). */
  afterId?: number;
  /** Paging: ids less than this. */
  beforeId?: number;
  /** Default 100, at most 10000. */
  limit?: number;
  /** Default `desc` (newest first), `asc` when afterId is given. */
  order?: 'asc' | 'desc';
}

export interface SourceInfo {
  id: number;
  host: string;
  instance: string;
  app: string;
  firstSeen: string;
  lastSeen: string;
  /** Highest seq received. */
  lastSeq: number;
  /** Highest seq with everything below it stored. */
  contiguousSeq: number;
  events: number;
  /** Events received again and dropped. */
  duplicates: number;
  gaps: number;
  openGaps: number;
}

export interface StoredGap extends SequenceGap {
  id: number;
  sourceId: number;
}

export interface GapQuery {
  host?: string;
  instance?: string;
  /** true: only open gaps; false: only filled ones. */
  open?: boolean;
  limit?: number;
}

const MAX_LIMIT = 10000;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

export class EventQueries {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    // MSG of a row's content, for the text filter; all of it when it no longer reads (edited: shown as damaged).
    db.function('a09_message', { deterministic: true }, (content: unknown) => {
      if (typeof content !== 'string') return null;
      const values = decodeContent(content);
      return values === undefined ? content : values[MESSAGE_INDEX];
    });
  }

  private statement(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      // Queries come in a bounded number of shapes (which filters are set); cap the cache anyway.
      if (this.cache.size > 512) this.cache.clear();
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  events(query: EventQuery): CollectedRecord[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.type !== undefined) {
      const types = Array.isArray(query.type) ? query.type : [query.type];
      if (types.length === 0) return [];
      where.push(`event_type IN (${types.map(() => '?').join(', ')})`);
      params.push(...types);
    }
    const equal = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('format', query.format);
    equal('host', query.host);
    equal('user_id', query.userId);
    equal('email_id', query.emailId);
    equal('ip', query.ip);
    if (query.instance !== undefined) {
      where.push('source_id IN (SELECT id FROM sources WHERE instance = ?)');
      params.push(query.instance);
    }
    if (query.maxSeverity !== undefined) {
      where.push('severity <= ?');
      params.push(query.maxSeverity);
    }
    // Ids follow receivedAt (one writer, its clock): narrow the id range first, then filter exactly.
    if (query.since !== undefined) {
      where.push('id >= ?', 'received_at >= ?');
      params.push(this.firstIdAtOrAfter(query.since), query.since);
    }
    if (query.until !== undefined) {
      where.push('id < ?', 'received_at < ?');
      params.push(this.firstIdAtOrAfter(query.until), query.until);
    }
    if (query.text !== undefined && query.text.length > 0) {
      // MSG lives inside the content: a LIKE on the content first (in SQLite), then MSG itself for the rows it lets by.
      const pattern = `%${escapeLike(query.text)}%`;
      where.push("content LIKE ? ESCAPE '\\'", "a09_message(content) LIKE ? ESCAPE '\\'");
      params.push(pattern, pattern);
    }
    if (query.afterId !== undefined) {
      where.push('id > ?');
      params.push(query.afterId);
    }
    if (query.beforeId !== undefined) {
      where.push('id < ?');
      params.push(query.beforeId);
    }
    const order = query.order ?? (query.afterId !== undefined ? 'asc' : 'desc');
    const limit = Math.max(1, Math.min(MAX_LIMIT, Math.floor(query.limit ?? 100)));
    params.push(limit);
    const sql = `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    return (this.statement(sql).all(...params) as EventRow[]).map(rowToRecord);
  }

  /** The first id whose receivedAt >= time, by binary search over the primary key (no index needed). */
  private firstIdAtOrAfter(time: string): number {
    const last = (this.statement('SELECT MAX(id) FROM events').pluck().get() as number | null) ?? 0;
    const at = this.statement('SELECT id, received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1');
    let low = 1;
    let high = last + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const row = at.get(middle) as { id: number; received_at: string } | undefined;
      if (row === undefined || row.received_at >= time) high = middle;
      else low = row.id + 1;
    }
    return low;
  }

  event(id: number): CollectedRecord | undefined {
    const row = this.statement('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  sources(): SourceInfo[] {
    const rows = this.statement(
      `SELECT s.*,
        (SELECT COUNT(*) FROM gaps g WHERE g.source_id = s.id) AS gap_count,
        (SELECT COUNT(*) FROM gaps g WHERE g.source_id = s.id AND g.filled_at IS NULL) AS open_gap_count
       FROM sources s ORDER BY s.last_seen DESC, s.id DESC`,
    ).all() as Array<SourceRow & { host: string; instance: string; gap_count: number; open_gap_count: number }>;
    return rows.map((row) => ({
      id: row.id,
      host: row.host,
      instance: row.instance,
      app: row.app,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      lastSeq: row.last_seq,
      contiguousSeq: row.contiguous_seq,
      events: row.events,
      duplicates: row.duplicates,
      gaps: row.gap_count,
      openGaps: row.open_gap_count,
    }));
  }

  gaps(query: GapQuery): StoredGap[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.host !== undefined) {
      where.push('s.host = ?');
      params.push(query.host);
    }
    if (query.instance !== undefined) {
      where.push('s.instance = ?');
      params.push(query.instance);
    }
    if (query.open === true) where.push('g.filled_at IS NULL');
    if (query.open === false) where.push('g.filled_at IS NOT NULL');
    params.push(Math.max(1, Math.min(MAX_LIMIT, Math.floor(query.limit ?? 100))));
    const rows = this.statement(
      `SELECT g.id, g.source_id, g.from_seq, g.to_seq, g.detected_at, g.filled_at, s.host, s.instance, s.app
       FROM gaps g JOIN sources s ON s.id = g.source_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.id DESC LIMIT ?`,
    ).all(...params) as Array<{
      id: number;
      source_id: number;
      from_seq: number;
      to_seq: number;
      detected_at: string;
      filled_at: string | null;
      host: string;
      instance: string;
      app: string;
    }>;
    return rows.map((row) => {
      const gap: StoredGap = {
        id: row.id,
        sourceId: row.source_id,
        host: row.host,
        instance: row.instance,
        app: row.app,
        from: row.from_seq,
        to: row.to_seq,
        detectedAt: row.detected_at,
      };
      if (row.filled_at !== null) gap.filledAt = row.filled_at;
      return gap;
    });
  }

  counts(): { sources: number; openGaps: number } {
    const sources = this.statement('SELECT COUNT(*) FROM sources').pluck().get() as number;
    const openGaps = this.statement('SELECT COUNT(*) FROM gaps WHERE filled_at IS NULL').pluck().get() as number;
    return { sources, openGaps };
  }
}
