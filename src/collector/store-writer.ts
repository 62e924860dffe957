import Database from 'better-sqlite3';
import { GENESIS_HASH, type ColumnValue } from './chain';
import { RowReader, type PackedRows } from './packed-rows';
import { EVENT_ROW_COLUMNS, createSchema } from './schema';

/**
 * The writing half of the store: one transaction per batch (queued batches merged), in order. It runs in a
 * worker thread (store-worker.ts) so SQLite uses the second core while the main thread parses and hashes;
 * or inline, in the main thread. The chain hashes come with the batch (the store computes them in order);
 * the writer checks that the batch continues the chain it has.
 */

/** One batch, as the main thread hands it over (plain data: it crosses threads). */
export interface WriteBatch {
  batch: number;
  /** Ids firstId .. firstId + count - 1; count may be 0 (only counters changed). */
  firstId: number;
  count: number;
  /** The rows, chained, in shared memory (see packed-rows.ts). */
  rows: PackedRows;
  /**
   * The hash the first row links to: the writer's head, or the batch is refused. Empty: the rows were packed
   * with chainLater (no chain key), and the writer chains them to its head as it writes them.
   */
  prevHash: Uint8Array;
  /** id, host, instance, app, first_seen */
  newSources: Array<[number, string, string, string, string]>;
  /** app, last_seen, last_seq, contiguous_seq, events, duplicates, id */
  sourceUpdates: Array<[string, string, number, number, number, number, number]>;
  /** id, source_id, from_seq, to_seq, detected_at, filled_at */
  newGaps: Array<[number, number, number, number, string, string | null]>;
  /** filled_at, id */
  filledGaps: Array<[string, number]>;
}

export interface WriteResult {
  batch: number;
  lastId: number;
  /** Hex. */
  head: string;
  committedAt: string;
}

export interface WriterOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

/** Where prev_hash goes in an inserted row (the hash follows it). */
const PREV_HASH_AT = EVENT_ROW_COLUMNS.indexOf('prev_hash');

/** A writer that fell behind catches up in transactions of at most this many rows. */
const MAX_ROWS_PER_TRANSACTION = 20000;

/** Messages between the store and its writer. */
export type WriterRequest = { type: 'batch'; batch: WriteBatch } | { type: 'close' };
export type WriterReply =
  | { type: 'committed'; result: WriteResult }
  | { type: 'failed'; batch: number; error: string; retryInMs: number }
  | { type: 'closed' };

/** The file was written by someone else since we last committed: two collectors on one file. */
export class ChainConflictError extends Error {
  constructor(detail: string) {
    super(`the events table changed under the collector (${detail}): is another collector writing to this file?`);
    this.name = 'ChainConflictError';
  }
}

/** Open the file with the store's settings; the schema is created by the first opener (the store's own connection). */
export function openStoreDatabase(path: string, synchronous: 'FULL' | 'NORMAL', busyTimeoutMs: number, createTables = true): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  // Larger pages: fewer splits for rows of about a kilobyte (only takes effect on a new file).
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  // Checkpoint every ~64 MB of WAL rather than 4 MB, and give the space back after.
  db.pragma('wal_autocheckpoint = 4000');
  db.pragma('journal_size_limit = 67108864');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('cache_size = -32000');
  db.pragma('temp_store = MEMORY');
  if (createTables) createSchema(db);
  return db;
}

export class BatchWriter {
  private readonly db: Database.Database;
  private lastId: number;
  private head: Buffer;
  private readonly insertEvent: Database.Statement;
  private readonly insertSource: Database.Statement;
  private readonly updateSource: Database.Statement;
  private readonly insertGap: Database.Statement;
  private readonly fillGap: Database.Statement;
  private readonly updateHead: Database.Statement;
  private readonly lastRow: Database.Statement;
  private readonly transaction: (batches: WriteBatch[]) => Map<number, { lastId: number; head: Buffer }>;

  constructor(options: WriterOptions) {
    // No DDL here: it would need the write lock, which someone else may hold while this writer starts.
    this.db = openStoreDatabase(options.path, options.synchronous, options.busyTimeoutMs, false);
    const db = this.db;
    // The content comes as its UTF-8 bytes (a view into the batch): bound as a blob, stored as the text it is.
    this.insertEvent = db.prepare(
      `INSERT INTO events (${EVENT_ROW_COLUMNS.join(', ')})
       VALUES (${EVENT_ROW_COLUMNS.map((name) => (name === 'content' ? 'CAST(? AS TEXT)' : '?')).join(', ')})`,
    );
    this.insertSource = db.prepare(
      `INSERT OR IGNORE INTO sources (id, host, instance, app, first_seen, last_seen, last_seq, contiguous_seq, events, duplicates)
       VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)`,
    );
    this.updateSource = db.prepare(
      'UPDATE sources SET app = ?, last_seen = ?, last_seq = ?, contiguous_seq = ?, events = ?, duplicates = ? WHERE id = ?',
    );
    this.insertGap = db.prepare('INSERT OR IGNORE INTO gaps (id, source_id, from_seq, to_seq, detected_at, filled_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.fillGap = db.prepare('UPDATE gaps SET filled_at = ? WHERE id = ?');
    this.updateHead = db.prepare(
      `INSERT INTO chain_head (id, last_id, last_hash, updated_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, updated_at = excluded.updated_at`,
    );
    this.lastRow = db.prepare('SELECT id, hash FROM events ORDER BY id DESC LIMIT 1');
    const last = this.lastRow.get() as { id: number; hash: Buffer } | undefined;
    this.lastId = last?.id ?? 0;
    this.head = last?.hash ?? GENESIS_HASH;
    this.transaction = db.transaction((batches: WriteBatch[]) => {
      const last = this.lastRow.get() as { id: number; hash: Buffer } | undefined;
      if ((last?.id ?? 0) !== this.lastId || !(last?.hash ?? GENESIS_HASH).equals(this.head)) {
        throw new ChainConflictError(`expected the last row to be ${this.lastId}, found ${last?.id ?? 0}`);
      }
      const results = new Map<number, { lastId: number; head: Buffer }>();
      let head = this.head;
      let lastId = this.lastId;
      for (const batch of batches) {
        head = this.apply(batch, head);
        if (batch.count > 0) lastId = batch.firstId + batch.count - 1;
        results.set(batch.batch, { lastId, head });
      }
      if (lastId !== this.lastId) this.updateHead.run(lastId, head, new Date().toISOString());
      return results;
    });
  }

  /**
   * Commit batches in one transaction (a writer that fell behind pays one fsync for all it caught up on);
   * throws when it could not, and then nothing of them is written. Returns one result per batch.
   */
  write(batches: WriteBatch[]): WriteResult[] {
    // Already committed: the reply was lost with a crashed worker, and the batch is sent again.
    const done = (batch: WriteBatch): boolean => batch.count > 0 && batch.firstId + batch.count - 1 <= this.lastId;
    const todo = batches.filter((batch) => !done(batch));
    let expected = this.lastId + 1;
    for (const batch of todo) {
      if (batch.count === 0) continue;
      if (batch.firstId !== expected) throw new ChainConflictError(`expected id ${expected}, got ${batch.firstId}`);
      expected += batch.count;
    }
    const before = { lastId: this.lastId, head: this.head };
    const after = todo.length > 0 ? this.transaction(todo) : new Map<number, { lastId: number; head: Buffer }>();
    const final = todo.length > 0 ? after.get(todo[todo.length - 1].batch) : undefined;
    if (final !== undefined) {
      this.lastId = final.lastId;
      this.head = final.head;
    }
    const committedAt = new Date().toISOString();
    let running = before;
    return batches.map((batch) => {
      running = after.get(batch.batch) ?? running;
      return { batch: batch.batch, lastId: running.lastId, head: running.head.toString('hex'), committedAt };
    });
  }

  private apply(batch: WriteBatch, head: Buffer): Buffer {
    // Structured clone turns Buffers into Uint8Arrays; wrap them again without copying.
    const prevHash = Buffer.from(batch.prevHash.buffer, batch.prevHash.byteOffset, batch.prevHash.byteLength);
    const chainHere = prevHash.length === 0;
    if (batch.count > 0 && !chainHere && !prevHash.equals(head)) throw new ChainConflictError(`batch ${batch.batch} does not continue the chain head`);
    // first_seen doubles as last_seen until the update below.
    for (const source of batch.newSources) this.insertSource.run(...source, source[4]);
    let prev = head;
    const reader = new RowReader(batch.rows);
    // One array for every row, passed spread: better-sqlite3 binds arguments directly, while an array
    // argument is read element by element through V8's generic property lookup (~0.6 us a row more).
    // EVENT_ROW_COLUMNS: id, the query columns and the content from nextForInsert, then prev_hash, hash.
    const values = new Array<ColumnValue | Uint8Array>(EVENT_ROW_COLUMNS.length);
    for (let i = 0; i < batch.count; i++) {
      if (!reader.nextForInsert(values)) throw new Error(`batch ${batch.batch} holds fewer rows than ${batch.count}`);
      // A batch sent again (after a failed commit or a restarted worker) is chained again: same head, same hashes.
      const hash = chainHere ? reader.chainRow(prev) : reader.hash();
      values[PREV_HASH_AT] = prev;
      values[PREV_HASH_AT + 1] = hash;
      this.insertEvent.run(...values);
      prev = hash;
    }
    for (const gap of batch.newGaps) this.insertGap.run(gap);
    for (const gap of batch.filledGaps) this.fillGap.run(gap);
    for (const update of batch.sourceUpdates) this.updateSource.run(update);
    // A copy: the batch's buffers are reused by the store once it is committed.
    return prev === head ? head : Buffer.from(prev);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Batches in order; a failed one (a lock held too long, a full disk) is retried with backoff, and nothing
 * after it is written before it. `reply` carries every outcome back to the store.
 */
export class WriteQueue {
  private readonly queue: WriteBatch[] = [];
  private retryInMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private failuresWhileClosing = 0;
  private drainScheduled = false;

  constructor(
    private readonly writer: BatchWriter,
    private readonly reply: (message: WriterReply) => void,
  ) {}

  handle(request: WriterRequest): void {
    if (request.type === 'batch') this.queue.push(request.batch);
    else this.closing = true;
    // Drain on the next turn: batches that arrived meanwhile join the same transaction.
    if (this.timer === undefined && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        if (this.timer === undefined) this.drain();
      });
    }
  }

  private drain(): void {
    this.timer = undefined;
    while (this.queue.length > 0) {
      // Everything queued, up to a cap, in one transaction.
      const take: WriteBatch[] = [];
      let rows = 0;
      for (const batch of this.queue) {
        if (take.length > 0 && rows + batch.count > MAX_ROWS_PER_TRANSACTION) break;
        take.push(batch);
        rows += batch.count;
      }
      let results: WriteResult[];
      try {
        results = this.writer.write(take);
      } catch (error) {
        this.retryInMs = Math.min(Math.max(this.retryInMs * 2, 100), 5000);
        this.reply({ type: 'failed', batch: take[0].batch, error: (error as Error).message, retryInMs: this.retryInMs });
        // Shutting down: a few more tries, then give up rather than hang the shutdown.
        if (this.closing && ++this.failuresWhileClosing > 5) {
          this.queue.length = 0;
          break;
        }
        this.timer = setTimeout(() => this.drain(), this.retryInMs);
        return;
      }
      this.retryInMs = 0;
      this.queue.splice(0, take.length);
      for (const result of results) this.reply({ type: 'committed', result });
    }
    if (this.closing) {
      this.writer.close();
      this.reply({ type: 'closed' });
    }
  }
}
