import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { GENESIS_HASH, canonicalContent, chainHash, type ColumnValue } from './chain';
import { EventQueries, type EventQuery, type GapQuery, type SourceInfo, type StoredGap } from './queries';
import type { CollectedRecord, SequenceGap } from './record';
import { recordValues } from './rows';
import { createSchema } from './schema';
import { emptySequence, observe, restoreSequence, type GapState, type SequenceState } from './sequence';

export interface StoreOptions {
  /** SQLite file (created when missing). */
  path: string;
  /** Commit when this many records wait (default 2000). */
  batchSize?: number;
  /** ...or this long after the first one arrived (default 20 ms). */
  batchDelayMs?: number;
  /** FULL (default): an acknowledged batch survives power loss; NORMAL: survives a crash of the process. */
  synchronous?: 'FULL' | 'NORMAL';
  /** HMAC key for the chain; without it the chain is plain SHA-256. verifyChain needs the same key. */
  chainKey?: string | Buffer;
  /** How long a commit waits for a lock another connection holds before it fails and is retried (default 1000). */
  busyTimeoutMs?: number;
  /** Sources kept in memory (default 10000); the rest are reloaded from the file when they speak again. */
  maxCachedSources?: number;
  /** Failures that do not stop the store (a commit that will be retried, a listener that threw). */
  onError?: (error: Error) => void;
}

/** Called after a batch commits, in id order: onGap before the record that revealed it, onGapFilled after. */
export interface StoreListener {
  onRecord?(record: CollectedRecord): void;
  onGap?(gap: SequenceGap): void;
  onGapFilled?(gap: SequenceGap): void;
  onCommit?(commit: CommitSummary): void;
}

export interface CommitSummary {
  /** Ids stored by this commit (firstId > lastId when it only saved counters). */
  firstId: number;
  lastId: number;
  committedAt: string;
}

export type AddOutcome = 'stored' | 'duplicate';

export interface StoreHealth {
  path: string;
  /** Id of the last committed record (= number of records: ids are dense). */
  lastId: number;
  /** Hash of the last committed record, hex: anchor it elsewhere to catch a rewrite of the whole file. */
  headHash: string;
  sources: number;
  openGaps: number;
  /** Records waiting for the next commit. */
  pending: number;
  lastCommitAt?: string;
  lastError?: string;
  fileBytes: number;
  walBytes: number;
}

interface SourceEntry {
  id: number;
  key: string;
  host: string;
  instance: string;
  app: string;
  firstSeen: string;
  lastSeen: string;
  events: number;
  duplicates: number;
  sequence: SequenceState;
  /** Not yet in the sources table. */
  unsaved: boolean;
  dirty: boolean;
}

interface PendingRecord {
  record: CollectedRecord;
  /** The hashed columns, then prev_hash and hash once written. */
  values: Array<ColumnValue | Buffer>;
  source?: SourceEntry;
  opened?: GapState;
  filled?: GapState;
}

interface SourceRow {
  id: number;
  host: string;
  instance: string;
  app: string;
  first_seen: string;
  last_seen: string;
  last_seq: number;
  contiguous_seq: number;
  events: number;
  duplicates: number;
}

interface GapRow {
  id: number;
  from_seq: number;
  to_seq: number;
  detected_at: string;
}

function sourceKey(host: string, instance: string): string {
  return `${host}\u0000${instance}`;
}

/**
 * The collector's SQLite store: WAL, one transaction per batch, a hash chain over an append-only events
 * table, and per-source sequence tracking (duplicates dropped, gaps recorded and filled). Single writer:
 * ids and hashes are assigned here, in order.
 */
export class CollectorStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly queries: EventQueries;
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly chainKey: string | Buffer | undefined;
  private readonly maxCachedSources: number;
  private readonly onError: (error: Error) => void;
  private readonly listeners = new Set<StoreListener>();
  private readonly sourceCache = new Map<string, SourceEntry>();
  private readonly dirtySources = new Set<SourceEntry>();
  private pending: PendingRecord[] = [];
  private filledGaps: Array<{ source: SourceEntry; gap: GapState }> = [];
  private openedGaps: Array<{ source: SourceEntry; gap: GapState }> = [];
  private timer: NodeJS.Timeout | undefined;
  private headHash: Buffer;
  private committedId: number;
  private nextId: number;
  private lastSourceId: number;
  private lastGapId: number;
  private lastCommitAt: string | undefined;
  private lastError: string | undefined;
  private retryDelayMs = 0;
  private closed = false;
  private readonly statements: {
    insertEvent: Database.Statement;
    insertSource: Database.Statement;
    updateSource: Database.Statement;
    insertGap: Database.Statement;
    fillGap: Database.Statement;
    updateHead: Database.Statement;
    sourceByKey: Database.Statement;
    openGaps: Database.Statement;
    seqsBetween: Database.Statement;
  };

  constructor(options: StoreOptions) {
    this.path = options.path;
    this.batchSize = options.batchSize ?? 2000;
    this.batchDelayMs = options.batchDelayMs ?? 20;
    this.chainKey = options.chainKey;
    this.maxCachedSources = options.maxCachedSources ?? 10000;
    this.onError = options.onError ?? ((error) => process.stderr.write(`collector store: ${error.message}\n`));
    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('cache_size = -32000');
    this.db.pragma('temp_store = MEMORY');
    createSchema(this.db);
    const db = this.db;
    this.statements = {
      insertEvent: db.prepare(
        `INSERT INTO events (id, received_at, transport, peer, format, facility, severity, timestamp, host, app, proc_id, msg_id, sd,
          message, flags, event_type, event_time, source_id, seq, user_id, email_id, ip, prev_hash, hash)
         VALUES (${new Array(24).fill('?').join(', ')})`,
      ),
      insertSource: db.prepare(
        `INSERT INTO sources (id, host, instance, app, first_seen, last_seen, last_seq, contiguous_seq, events, duplicates)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateSource: db.prepare(
        'UPDATE sources SET app = ?, last_seen = ?, last_seq = ?, contiguous_seq = ?, events = ?, duplicates = ? WHERE id = ?',
      ),
      insertGap: db.prepare('INSERT INTO gaps (id, source_id, from_seq, to_seq, detected_at, filled_at) VALUES (?, ?, ?, ?, ?, ?)'),
      fillGap: db.prepare('UPDATE gaps SET filled_at = ? WHERE id = ?'),
      updateHead: db.prepare(
        `INSERT INTO chain_head (id, last_id, last_hash, updated_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, updated_at = excluded.updated_at`,
      ),
      sourceByKey: db.prepare('SELECT * FROM sources WHERE host = ? AND instance = ?'),
      openGaps: db.prepare('SELECT id, from_seq, to_seq, detected_at FROM gaps WHERE source_id = ? AND filled_at IS NULL ORDER BY from_seq'),
      seqsBetween: db.prepare('SELECT seq FROM events WHERE source_id = ? AND seq BETWEEN ? AND ? ORDER BY seq').pluck(),
    };
    const last = db.prepare('SELECT id, hash FROM events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: Buffer } | undefined;
    this.committedId = last?.id ?? 0;
    this.nextId = this.committedId + 1;
    this.headHash = last?.hash ?? GENESIS_HASH;
    this.lastSourceId = (db.prepare('SELECT MAX(id) FROM sources').pluck().get() as number | null) ?? 0;
    this.lastGapId = (db.prepare('SELECT MAX(id) FROM gaps').pluck().get() as number | null) ?? 0;
    this.queries = new EventQueries(db);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records waiting for a commit. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Take a record: assigns its id, drops it when it is an event already stored (same host, instance and
   * seq), records a gap when seqs were skipped. It is committed within batchDelayMs (or at once when the
   * batch is full) and then handed to the listeners.
   */
  add(record: CollectedRecord): AddOutcome {
    if (this.closed) throw new Error('the collector store is closed');
    const event = record.event;
    let source: SourceEntry | undefined;
    const pending: PendingRecord = { record, values: [] };
    if (event !== undefined) {
      source = this.source(event.host, event.instance, event.app, record.receivedAt);
      const seen = observe(source.sequence, event.seq, record.receivedAt, () => ++this.lastGapId);
      this.touch(source);
      if (seen.kind === 'duplicate') {
        source.duplicates++;
        this.schedule();
        return 'duplicate';
      }
      source.events++;
      source.lastSeen = record.receivedAt;
      source.app = event.app;
      pending.source = source;
      if (seen.opened !== undefined) {
        pending.opened = seen.opened;
        this.openedGaps.push({ source, gap: seen.opened });
      }
      if (seen.filled !== undefined) {
        pending.filled = seen.filled;
        this.filledGaps.push({ source, gap: seen.filled });
      }
    }
    record.id = this.nextId++;
    pending.values = recordValues(record, source === undefined ? null : source.id);
    this.pending.push(pending);
    if (this.pending.length >= this.batchSize && this.retryDelayMs === 0) this.flush();
    else this.schedule();
    return 'stored';
  }

  /** The highest seq of a source below which every event is stored (0 when unknown). */
  contiguousSeq(host: string, instance: string): number {
    const cached = this.sourceCache.get(sourceKey(host, instance));
    if (cached !== undefined) return cached.sequence.contiguous;
    const row = this.statements.sourceByKey.get(host, instance) as SourceRow | undefined;
    return row?.contiguous_seq ?? 0;
  }

  /** Commit what waits; returns false when the commit failed (it is retried later). */
  flush(): boolean {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 && this.dirtySources.size === 0) return true;
    const batch = this.pending;
    const committedAt = new Date().toISOString();
    let head: Buffer;
    try {
      head = this.db.transaction(() => this.write(batch))();
    } catch (error) {
      this.lastError = (error as Error).message;
      this.onError(error as Error);
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 100), 5000);
      this.schedule();
      return false;
    }
    const firstId = this.committedId + 1;
    this.retryDelayMs = 0;
    this.headHash = head;
    this.committedId = this.nextId - 1;
    this.lastCommitAt = committedAt;
    this.pending = [];
    this.openedGaps = [];
    this.filledGaps = [];
    for (const source of this.dirtySources) {
      source.unsaved = false;
      source.dirty = false;
    }
    this.dirtySources.clear();
    this.evictSources();
    this.dispatch(batch, { firstId, lastId: this.committedId, committedAt });
    return true;
  }

  private write(batch: PendingRecord[]): Buffer {
    const s = this.statements;
    for (const source of this.dirtySources) {
      if (source.unsaved) {
        s.insertSource.run(source.id, source.host, source.instance, source.app, source.firstSeen, source.lastSeen, 0, 0, 0, 0);
      }
    }
    let prev = this.headHash;
    for (const item of batch) {
      const values = item.values;
      values.length = 22;
      const hash = chainHash(prev, canonicalContent(values as ColumnValue[]), this.chainKey);
      values.push(prev, hash);
      s.insertEvent.run(values);
      prev = hash;
    }
    for (const { source, gap } of this.openedGaps) {
      s.insertGap.run(gap.id, source.id, gap.from, gap.to, gap.detectedAt, gap.filledAt ?? null);
    }
    for (const { gap } of this.filledGaps) s.fillGap.run(gap.filledAt ?? null, gap.id);
    for (const source of this.dirtySources) {
      const seq = source.sequence;
      s.updateSource.run(source.app, source.lastSeen, seq.maxSeq, seq.contiguous, source.events, source.duplicates, source.id);
    }
    if (batch.length > 0) s.updateHead.run(batch[batch.length - 1].record.id, prev, new Date().toISOString());
    return prev;
  }

  private dispatch(batch: PendingRecord[], commit: CommitSummary): void {
    if (this.listeners.size === 0) return;
    for (const item of batch) {
      if (item.opened !== undefined && item.source !== undefined) this.emit('onGap', toSequenceGap(item.source, item.opened));
      this.emit('onRecord', item.record);
      if (item.filled !== undefined && item.source !== undefined) this.emit('onGapFilled', toSequenceGap(item.source, item.filled));
    }
    this.emit('onCommit', commit);
  }

  private emit<K extends keyof StoreListener>(name: K, value: Parameters<NonNullable<StoreListener[K]>>[0]): void {
    for (const listener of this.listeners) {
      const callback = listener[name] as ((argument: typeof value) => void) | undefined;
      if (callback === undefined) continue;
      try {
        callback.call(listener, value);
      } catch (error) {
        this.onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.retryDelayMs > 0 ? this.retryDelayMs : this.batchDelayMs);
  }

  private touch(source: SourceEntry): void {
    if (!source.dirty) {
      source.dirty = true;
      this.dirtySources.add(source);
    }
  }

  private source(host: string, instance: string, app: string, now: string): SourceEntry {
    const key = sourceKey(host, instance);
    const cached = this.sourceCache.get(key);
    if (cached !== undefined) return cached;
    const row = this.statements.sourceByKey.get(host, instance) as SourceRow | undefined;
    let entry: SourceEntry;
    if (row === undefined) {
      entry = {
        id: ++this.lastSourceId,
        key,
        host,
        instance,
        app,
        firstSeen: now,
        lastSeen: now,
        events: 0,
        duplicates: 0,
        sequence: emptySequence(),
        unsaved: true,
        dirty: false,
      };
    } else {
      const gaps = (this.statements.openGaps.all(row.id) as GapRow[]).map(
        (gap): GapState => ({ id: gap.id, from: gap.from_seq, to: gap.to_seq, missing: 0, detectedAt: gap.detected_at }),
      );
      const sequence = restoreSequence(row.contiguous_seq, row.last_seq, gaps, (gap) => {
        const seqs = this.statements.seqsBetween.all(row.id, gap.from, gap.to) as number[];
        gap.missing = gap.to - gap.from + 1 - seqs.length;
        return seqs;
      });
      entry = {
        id: row.id,
        key,
        host,
        instance,
        app: row.app,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        events: row.events,
        duplicates: row.duplicates,
        sequence,
        unsaved: false,
        dirty: false,
      };
    }
    this.sourceCache.set(key, entry);
    return entry;
  }

  /** Keep the cache bounded: forget the least recently loaded sources that have nothing unsaved. */
  private evictSources(): void {
    if (this.sourceCache.size <= this.maxCachedSources) return;
    const target = Math.floor(this.maxCachedSources * 0.9);
    for (const [key, entry] of this.sourceCache) {
      if (this.sourceCache.size <= target) break;
      if (!entry.dirty && !entry.unsaved) this.sourceCache.delete(key);
    }
  }

  // Queries: committed state only.

  events(query: EventQuery = {}): CollectedRecord[] {
    return this.queries.events(query);
  }

  event(id: number): CollectedRecord | undefined {
    return this.queries.event(id);
  }

  sources(): SourceInfo[] {
    return this.queries.sources();
  }

  gaps(query: GapQuery = {}): StoredGap[] {
    return this.queries.gaps(query);
  }

  health(): StoreHealth {
    const counts = this.queries.counts();
    const size = (path: string): number => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const health: StoreHealth = {
      path: this.path,
      lastId: this.committedId,
      headHash: this.headHash.toString('hex'),
      sources: counts.sources,
      openGaps: counts.openGaps,
      pending: this.pending.length,
      fileBytes: size(this.path),
      walBytes: size(`${this.path}-wal`),
    };
    if (this.lastCommitAt !== undefined) health.lastCommitAt = this.lastCommitAt;
    if (this.lastError !== undefined) health.lastError = this.lastError;
    return health;
  }

  /** Commit what waits and close the file. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.db.close();
  }
}

function toSequenceGap(source: SourceEntry, gap: GapState): SequenceGap {
  const result: SequenceGap = { host: source.host, instance: source.instance, app: source.app, from: gap.from, to: gap.to, detectedAt: gap.detectedAt };
  if (gap.filledAt !== undefined) result.filledAt = gap.filledAt;
  return result;
}
