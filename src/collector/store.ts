import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { EVENT_COLUMNS, GENESIS_HASH, type ColumnValue } from './chain';
import { RowPacker, RowReader, type PackedRows } from './packed-rows';
import { EventQueries, type EventQuery, type GapQuery, type SourceInfo, type SourceRow, type StoredGap } from './queries';
import type { AuditEvent } from '../events';
import type { CollectedRecord, SequenceGap } from './record';
import { ReceivedFrame } from './parse';
import { packFrame, packRecord, recordFromValues, wellFormed } from './rows';
import { emptySequence, observe, restoreSequence, type GapState, type SequenceState } from './sequence';
import { openStoreDatabase, type WriteBatch, type WriterOptions, type WriterReply } from './store-writer';
import { InlineChannel, ThreadChannel, type WriterChannel } from './writer-channel';

export interface StoreOptions {
  /** SQLite file (created when missing). */
  path: string;
  /** Hand a batch to the writer when this many records wait (default 2000). */
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
  /** `thread` (default): SQLite and hashing run in a worker thread, on another core; `inline`: in this thread. */
  writer?: 'thread' | 'inline';
  /** Failures that do not stop the store (a commit that will be retried, a listener that threw). */
  onError?: (error: Error) => void;
}

/**
 * onIntake is called as each record is taken; the others after a batch commits, in id order: onGap before the
 * record that revealed it, onGapFilled after.
 */
export interface StoreListener {
  /**
   * Each record as it is taken, id set, before its batch commits (it may still be lost if the process dies
   * first). For our events the record holds what the rules read (id, receipt, transport, peer, format, PRI,
   * MSG, the event), not the header fields and structured data. Cheaper than onRecord, which reads records
   * back from the stored rows and keeps each event until its commit: a listener that can wait for the commit
   * by itself (the detector holds its alerts until then) should use this.
   */
  onIntake?(record: CollectedRecord): void;
  onRecord?(record: CollectedRecord): void;
  onGap?(gap: SequenceGap): void;
  onGapFilled?(gap: SequenceGap): void;
  onCommit?(commit: CommitSummary): void;
}

/** An acknowledgement now due: every event of (host, instance) up to seq is committed. */
export interface AckDue {
  /** What was passed to add() as ackTarget. */
  target: object;
  host: string;
  instance: string;
  seq: number;
}

export interface CommitSummary {
  /** Ids stored by this commit (firstId > lastId when it only saved counters). */
  firstId: number;
  lastId: number;
  committedAt: string;
  acks: AckDue[];
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
  /** Records taken and not yet committed. */
  pending: number;
  /** The last commit failed; it is being retried. */
  failing: boolean;
  lastCommitAt?: string;
  lastError?: string;
  fileBytes: number;
  walBytes: number;
}

interface SourceEntry {
  id: number;
  host: string;
  instance: string;
  app: string;
  firstSeen: string;
  lastSeen: string;
  events: number;
  duplicates: number;
  sequence: SequenceState;
  /** contiguous as of the last commit: what an ACK may promise. */
  committedContiguous: number;
  /** Not yet handed to the writer. */
  unsaved: boolean;
  dirty: boolean;
  /** The last batch that carried a change to it. */
  lastBatch: number;
}

/** A record of the batch (by its index in it) that opened or filled a gap of its source. */
interface GapNote {
  index: number;
  source: SourceEntry;
  opened?: GapState;
  filled?: GapState;
}

interface InFlightBatch {
  batch: number;
  count: number;
  /** The batch's rows: after the commit, listeners get records read back from them. */
  rows: PackedRows;
  events: Array<AuditEvent | undefined>;
  gapNotes: GapNote[];
  contiguous: Array<[SourceEntry, number]>;
  acks: Array<[object, Set<SourceEntry>]>;
}

interface GapRow {
  id: number;
  from_seq: number;
  to_seq: number;
  detected_at: string;
}

/** A batch's packed rows start this big (they grow as needed). */
const INITIAL_BATCH_BYTES = 256 * 1024;
/** A batch is handed over once its rows take this much, whatever their number (huge frames). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * The collector's SQLite store: WAL, one transaction per batch, a hash chain over an append-only events
 * table, per-source sequence tracking (duplicates dropped, gaps recorded and filled). This thread assigns
 * ids and tracks sequences, so add() answers at once; the writer commits batches in order and listeners hear
 * of records only after their batch committed. Queries read what is committed.
 */
export class CollectorStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly queries: EventQueries;
  private readonly channel: WriterChannel;
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly maxCachedSources: number;
  private readonly onError: (error: Error) => void;
  private readonly listeners = new Set<StoreListener>();
  private readonly sourceCache = new Map<string, SourceEntry>();
  /** The source of the last event taken (always one of sourceCache's). */
  private lastSource: SourceEntry | undefined;
  private dirtySources = new Set<SourceEntry>();
  /**
   * The records taken since the last batch, as rows chained as they are added: nothing else of them is kept
   * (records kept until their commit cost the garbage collector more than reading them back).
   */
  private readonly packer: RowPacker;
  private pendingGapNotes: GapNote[] = [];
  /**
   * The events read at intake, by row index, kept for the listeners while someone listens for records
   * (cheaper than parsing MSG again after the commit; a row without one is read back from its MSG).
   */
  private pendingEvents: Array<AuditEvent | undefined> = [];
  private recordListeners = 0;
  private intakeListeners = 0;
  private pendingAcks = new Map<object, Set<SourceEntry>>();
  private openedGaps: Array<{ source: SourceEntry; gap: GapState }> = [];
  private filledGaps: GapState[] = [];
  private readonly inFlight: InFlightBatch[] = [];
  private inFlightRecords = 0;
  private waiters: Array<{ batch: number; resolve: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private headHash: Buffer;
  /** Hash of the last row handed to the writer: the next batch's rows chain from it. */
  private sentHead: Buffer;
  private committedId: number;
  private nextId: number;
  private lastSourceId: number;
  private lastGapId: number;
  private batchCounter = 0;
  private committedBatch = 0;
  private lastCommitAt: string | undefined;
  private lastError: string | undefined;
  private failing = false;
  private closing: Promise<void> | undefined;
  private readonly sourceByKey: Database.Statement;
  private readonly openGapsOf: Database.Statement;
  private readonly seqsBetween: Database.Statement;

  constructor(options: StoreOptions) {
    this.path = options.path;
    this.batchSize = options.batchSize ?? 2000;
    this.batchDelayMs = options.batchDelayMs ?? 20;
    this.maxCachedSources = options.maxCachedSources ?? 10000;
    this.onError = options.onError ?? ((error) => process.stderr.write(`collector store: ${error.message}\n`));
    const writerOptions: WriterOptions = {
      path: options.path,
      synchronous: options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
      busyTimeoutMs: options.busyTimeoutMs ?? 1000,
    };
    // This connection creates the schema and then only reads; the writer has its own.
    this.db = openStoreDatabase(options.path, writerOptions.synchronous, writerOptions.busyTimeoutMs);
    const db = this.db;
    this.sourceByKey = db.prepare('SELECT * FROM sources WHERE host = ? AND instance = ?');
    this.openGapsOf = db.prepare('SELECT id, from_seq, to_seq, detected_at FROM gaps WHERE source_id = ? AND filled_at IS NULL ORDER BY from_seq');
    this.seqsBetween = db.prepare('SELECT seq FROM events WHERE source_id = ? AND seq BETWEEN ? AND ? ORDER BY seq').pluck();
    const last = db.prepare('SELECT id, hash FROM events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: Buffer } | undefined;
    this.committedId = last?.id ?? 0;
    this.nextId = this.committedId + 1;
    this.headHash = last?.hash ?? GENESIS_HASH;
    this.sentHead = this.headHash;
    // A keyed chain is computed in this thread, in order: the key never goes to the writer. A plain SHA-256
    // chain is computed by the writer as it writes the rows (hashing ~1.3 us a row moves to the other core).
    this.packer = new RowPacker(this.headHash, options.chainKey, Math.min(this.batchSize, 4096), INITIAL_BATCH_BYTES, options.chainKey === undefined);
    this.lastSourceId = (db.prepare('SELECT MAX(id) FROM sources').pluck().get() as number | null) ?? 0;
    this.lastGapId = (db.prepare('SELECT MAX(id) FROM gaps').pluck().get() as number | null) ?? 0;
    this.queries = new EventQueries(db);
    const onReply = (reply: Exclude<WriterReply, { type: 'closed' }>): void => this.reply(reply);
    this.channel =
      options.writer === 'inline'
        ? new InlineChannel(writerOptions, onReply)
        : new ThreadChannel(writerOptions, onReply, (error) => this.fail(error));
  }

  subscribe(listener: StoreListener): () => void {
    if (this.listeners.has(listener)) return () => this.unsubscribe(listener);
    this.listeners.add(listener);
    if (listener.onRecord !== undefined) this.recordListeners++;
    if (listener.onIntake !== undefined) this.intakeListeners++;
    return () => this.unsubscribe(listener);
  }

  private unsubscribe(listener: StoreListener): void {
    if (!this.listeners.delete(listener)) return;
    if (listener.onRecord !== undefined) this.recordListeners--;
    if (listener.onIntake !== undefined) this.intakeListeners--;
  }

  /** Records taken and not yet committed (waiting for a batch, or in the writer). */
  get backlog(): number {
    return this.packer.count + this.inFlightRecords;
  }

  /** Nothing taken is waiting for a commit. */
  get settledNow(): boolean {
    return this.packer.count === 0 && this.dirtySources.size === 0 && this.pendingAcks.size === 0 && this.inFlight.length === 0;
  }

  /**
   * Take a record: assigns its id, drops it when it is an event already taken (same host, instance and seq),
   * records a gap when seqs were skipped. It is committed within batchDelayMs (sooner when the batch is
   * full), then handed to the listeners. With an ackTarget, the commit summary names it with the source's
   * highest contiguous seq (for duplicates too: a sender replaying stored events needs its ACK).
   * A record given as an object gets its id set; listeners get records read back from the store.
   */
  add(record: CollectedRecord | ReceivedFrame, ackTarget?: object): AddOutcome {
    if (this.closing !== undefined) throw new Error('the collector store is closed');
    const event = record.event;
    let source: SourceEntry | undefined;
    if (event !== undefined) {
      // Most events come from the source of the one before: compared, not looked up by a new key.
      const last = this.lastSource;
      source = last !== undefined && last.host === event.host && last.instance === event.instance ? last : this.source(wellFormed(event.host), wellFormed(event.instance), wellFormed(event.app), record.receivedAt);
      this.lastSource = source;
      const seen = observe(source.sequence, event.seq, record.receivedAt, () => ++this.lastGapId);
      this.touch(source);
      if (ackTarget !== undefined) {
        let sources = this.pendingAcks.get(ackTarget);
        if (sources === undefined) this.pendingAcks.set(ackTarget, (sources = new Set()));
        sources.add(source);
      }
      if (seen.kind === 'duplicate') {
        source.duplicates++;
        this.schedule();
        return 'duplicate';
      }
      source.events++;
      source.lastSeen = record.receivedAt;
      source.app = wellFormed(event.app);
      if (seen.opened !== undefined || seen.filled !== undefined) {
        const note: GapNote = { index: this.packer.count, source };
        if (seen.opened !== undefined) {
          note.opened = seen.opened;
          this.openedGaps.push({ source, gap: seen.opened });
        }
        if (seen.filled !== undefined) {
          note.filled = seen.filled;
          this.filledGaps.push(seen.filled);
        }
        this.pendingGapNotes.push(note);
      }
    }
    const id = this.nextId++;
    const sourceId = source === undefined ? null : source.id;
    if (record instanceof ReceivedFrame) {
      packFrame(this.packer, record, id, sourceId);
      if (this.recordListeners > 0 && record.event !== undefined) this.pendingEvents[this.packer.count - 1] = record.event;
    } else {
      record.id = id;
      packRecord(this.packer, record, sourceId);
    }
    // Before a full batch goes: an inline writer commits within send(), and intake comes before commit.
    if (this.intakeListeners > 0) this.emit('onIntake', record instanceof ReceivedFrame ? intakeRecord(record, id) : record);
    if (this.packer.count >= this.batchSize || this.packer.size >= MAX_BATCH_BYTES) this.send();
    else this.schedule();
    return 'stored';
  }

  /** The highest seq of a source below which every event is committed (0 when unknown). */
  contiguousSeq(host: string, instance: string): number {
    const cached = this.sourceCache.get(`${host}\u0000${instance}`);
    if (cached !== undefined) return cached.committedContiguous;
    const row = this.sourceByKey.get(host, instance) as SourceRow | undefined;
    return row?.contiguous_seq ?? 0;
  }

  /** Hand what waits to the writer now; resolves when it is committed. */
  flush(): Promise<void> {
    this.send();
    return this.settled();
  }

  /** Resolves when everything taken so far is committed (without hurrying the batch). */
  settled(): Promise<void> {
    const target = this.packer.count > 0 || this.dirtySources.size > 0 || this.pendingAcks.size > 0 ? this.batchCounter + 1 : this.batchCounter;
    if (this.committedBatch >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ batch: target, resolve }));
  }

  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.packer.count === 0 && this.dirtySources.size === 0 && this.pendingAcks.size === 0) return;
    const batch = ++this.batchCounter;
    const count = this.packer.count;
    // Rows the writer chains go with an empty prevHash (it chains them to its own head).
    const prevHash = this.packer.chainLater ? Buffer.alloc(0) : this.sentHead;
    this.sentHead = this.packer.lastHash;
    const rows = this.packer.take();
    const message: WriteBatch = {
      batch,
      firstId: this.nextId - count,
      count,
      rows,
      prevHash,
      newSources: [],
      sourceUpdates: [],
      newGaps: this.openedGaps.map(({ source, gap }) => [gap.id, source.id, gap.from, gap.to, gap.detectedAt, gap.filledAt ?? null]),
      filledGaps: this.filledGaps.map((gap) => [gap.filledAt ?? '', gap.id]),
    };
    const contiguous: Array<[SourceEntry, number]> = [];
    for (const source of this.dirtySources) {
      if (source.unsaved) {
        message.newSources.push([source.id, source.host, source.instance, source.app, source.firstSeen]);
        source.unsaved = false;
      }
      const seq = source.sequence;
      message.sourceUpdates.push([source.app, source.lastSeen, seq.maxSeq, seq.contiguous, source.events, source.duplicates, source.id]);
      contiguous.push([source, seq.contiguous]);
      source.dirty = false;
      source.lastBatch = batch;
    }
    this.inFlight.push({ batch, count, rows, events: this.pendingEvents, gapNotes: this.pendingGapNotes, contiguous, acks: [...this.pendingAcks] });
    this.pendingEvents = [];
    this.inFlightRecords += count;
    this.pendingGapNotes = [];
    this.pendingAcks = new Map();
    this.dirtySources = new Set();
    this.openedGaps = [];
    this.filledGaps = [];
    // Last: an inline writer commits (and calls back) within submit.
    this.channel.submit(message);
  }

  private reply(reply: Exclude<WriterReply, { type: 'closed' }>): void {
    if (reply.type === 'failed') {
      this.failing = true;
      this.lastError = reply.error;
      this.onError(new Error(`collector store: commit failed (${reply.error}); retrying in ${reply.retryInMs} ms`));
      return;
    }
    const { result } = reply;
    const done = this.inFlight[0];
    if (done === undefined || done.batch !== result.batch) {
      this.fail(new Error(`collector store: commit of batch ${result.batch} out of order`));
      return;
    }
    this.inFlight.shift();
    this.inFlightRecords -= done.count;
    const firstId = this.committedId + 1;
    this.committedId = result.lastId;
    this.headHash = Buffer.from(result.head, 'hex');
    this.committedBatch = result.batch;
    this.lastCommitAt = result.committedAt;
    this.failing = false;
    for (const [source, seq] of done.contiguous) source.committedContiguous = seq;
    this.evictSources();
    this.dispatch(done, { firstId, lastId: this.committedId, committedAt: result.committedAt, acks: [] });
    // Committed (the writer is done with it) and read back for the listeners: its buffers can be reused.
    this.packer.recycle(done.rows);
    // Idle (nothing in flight, nothing since): what a burst needed in flight is not kept after it.
    if (this.inFlight.length === 0 && this.packer.count === 0) this.packer.trimSpares(2);
    const ready = this.waiters.filter((waiter) => waiter.batch <= this.committedBatch);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((waiter) => waiter.batch > this.committedBatch);
      for (const waiter of ready) waiter.resolve();
    }
  }

  private fail(error: Error): void {
    this.failing = true;
    this.lastError = error.message;
    this.onError(error);
  }

  private dispatch(batch: InFlightBatch, commit: CommitSummary): void {
    for (const [target, sources] of batch.acks) {
      for (const source of sources) commit.acks.push({ target, host: source.host, instance: source.instance, seq: source.committedContiguous });
    }
    if (this.listeners.size === 0) return;
    const wantsRecords = this.recordListeners > 0;
    if (wantsRecords || batch.gapNotes.length > 0) {
      const reader = wantsRecords ? new RowReader(batch.rows) : undefined;
      const values = new Array<ColumnValue>(EVENT_COLUMNS.length);
      const notes = batch.gapNotes;
      let next = 0;
      for (let index = 0; index < batch.count; index++) {
        const note = next < notes.length && notes[next].index === index ? notes[next++] : undefined;
        if (note?.opened !== undefined) this.emit('onGap', toSequenceGap(note.source, note.opened));
        if (reader !== undefined && reader.next(values)) this.emit('onRecord', recordFromValues(values, batch.events[index]));
        if (note?.filled !== undefined) this.emit('onGapFilled', toSequenceGap(note.source, note.filled));
        if (reader === undefined && next === notes.length) break;
      }
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
    if (this.timer !== undefined || this.closing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, this.batchDelayMs);
  }

  private touch(source: SourceEntry): void {
    if (!source.dirty) {
      source.dirty = true;
      this.dirtySources.add(source);
    }
  }

  private source(host: string, instance: string, app: string, now: string): SourceEntry {
    const key = `${host}\u0000${instance}`;
    const cached = this.sourceCache.get(key);
    if (cached !== undefined) return cached;
    const row = this.sourceByKey.get(host, instance) as SourceRow | undefined;
    let entry: SourceEntry;
    if (row === undefined) {
      entry = {
        id: ++this.lastSourceId,
        host,
        instance,
        app,
        firstSeen: now,
        lastSeen: now,
        events: 0,
        duplicates: 0,
        sequence: emptySequence(),
        committedContiguous: 0,
        unsaved: true,
        dirty: false,
        lastBatch: 0,
      };
    } else {
      const gaps = (this.openGapsOf.all(row.id) as GapRow[]).map(
        (gap): GapState => ({ id: gap.id, from: gap.from_seq, to: gap.to_seq, missing: 0, detectedAt: gap.detected_at }),
      );
      const sequence = restoreSequence(row.contiguous_seq, row.last_seq, gaps, (gap) => {
        const seqs = this.seqsBetween.all(row.id, gap.from, gap.to) as number[];
        gap.missing = gap.to - gap.from + 1 - seqs.length;
        return seqs;
      });
      entry = {
        id: row.id,
        host,
        instance,
        app: row.app,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        events: row.events,
        duplicates: row.duplicates,
        sequence,
        committedContiguous: sequence.contiguous,
        unsaved: false,
        dirty: false,
        lastBatch: 0,
      };
    }
    this.sourceCache.set(key, entry);
    return entry;
  }

  /** Keep the cache bounded: forget the least recently loaded sources whose changes are all committed. */
  private evictSources(): void {
    if (this.sourceCache.size <= this.maxCachedSources) return;
    const target = Math.floor(this.maxCachedSources * 0.9);
    for (const [key, entry] of this.sourceCache) {
      if (this.sourceCache.size <= target) break;
      if (!entry.dirty && !entry.unsaved && entry.lastBatch <= this.committedBatch) {
        this.sourceCache.delete(key);
        if (entry === this.lastSource) this.lastSource = undefined;
      }
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
    const size = (file: string): number => {
      try {
        return statSync(file).size;
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
      pending: this.backlog,
      failing: this.failing,
      fileBytes: size(this.path),
      walBytes: size(`${this.path}-wal`),
    };
    if (this.lastCommitAt !== undefined) health.lastCommitAt = this.lastCommitAt;
    if (this.lastError !== undefined) health.lastError = this.lastError;
    return health;
  }

  /** Commit what waits and close the file (after a few failed retries, what could not be written is lost). */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.send();
    this.closing = (async () => {
      await this.channel.close();
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.backlog > 0) this.onError(new Error(`collector store: ${this.backlog} records could not be committed before closing`));
      for (const waiter of this.waiters) waiter.resolve();
      this.waiters = [];
      this.db.close();
    })();
    return this.closing;
  }
}

/** A frame as onIntake listeners get it: for our events what the rules read; anything else whole. */
function intakeRecord(frame: ReceivedFrame, id: number): CollectedRecord {
  if (frame.event === undefined) return frame.toRecord(id);
  const record = frame.baseRecord(id);
  record.event = frame.event;
  if (frame.flags !== undefined) record.flags = [...frame.flags];
  return record;
}

function toSequenceGap(source: SourceEntry, gap: GapState): SequenceGap {
  const result: SequenceGap = { host: source.host, instance: source.instance, app: source.app, from: gap.from, to: gap.to, detectedAt: gap.detectedAt };
  if (gap.filledAt !== undefined) result.filledAt = gap.filledAt;
  return result;
}
