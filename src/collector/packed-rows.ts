import * as crypto from 'node:crypto';
import { EVENT_COLUMNS, QUERY_COLUMNS, QUERY_COLUMN_INDEXES, type ColumnValue } from './chain';

/**
 * A batch of rows as bytes, written once on the parsing thread and read in place by the writer thread (and,
 * after the commit, by the parsing thread again to hand records to listeners): no string per row is built,
 * joined, cloned across threads or kept alive until the commit.
 *
 * `bytes` holds, for each row, the 64 hex digits of the previous row's hash and then the row's canonical
 * content (chain.ts) in UTF-8: the chain hash of a row is one hash over one contiguous range, exactly what
 * `chainHash(prev, canonicalContent(values))` computes from strings. `columns` holds, per row and column,
 * an integer column's value, or where a string column's content ends in `bytes` (negated when it is not
 * ASCII); a NULL is `~` in `bytes`. Both live in shared memory, so posting a batch to the writer copies nothing.
 */
export interface PackedRows {
  bytes: Uint8Array;
  columns: Float64Array;
  /** count * 32 bytes: each row's hash. */
  hashes: Uint8Array;
}

const COLUMN_COUNT = EVENT_COLUMNS.length;
const HEX_LENGTH = 64;
const TILDE = 0x7e;
const HASH_SIGN = 0x23;
const SEMICOLON = 0x3b;
const COLON = 0x3a;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Spare batch buffers kept while busy (a backlog of 20000 rows is 10 batches of 2000 in flight). */
const MAX_SPARES = 16;
/** Strings up to this long are copied byte by byte; longer ones through Buffer methods. */
const SHORT = 48;

// One-shot hashing (Node >= 20.12) costs a third less than a Hash object per row; same digest either way.
// Asked for as a 'binary' (latin1) string: 32 characters cost less to make than the Buffer it would return
// otherwise (an ArrayBuffer with its own backing store, ~0.4 us a row), and are written where the hash goes.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string }).hash;

/** Buffer's latin1 writer (what write(string, offset, 'latin1') calls after checking its arguments). */
type LatinWritable = Buffer & { latin1Write(text: string, offset: number, length: number): number };

/** The chain hash of one row's bytes (hex of the previous hash, then the content), written at `target[offset]`. */
function hashRowInto(input: Uint8Array, key: string | Buffer | undefined, target: Buffer, offset: number): void {
  if (key === undefined && oneShot !== undefined) {
    (target as LatinWritable).latin1Write(oneShot('sha256', input, 'binary'), offset, 32);
    return;
  }
  const digest = key !== undefined ? crypto.createHmac('sha256', key).update(input).digest() : crypto.createHash('sha256').update(input).digest();
  digest.copy(target, offset);
}

/** The 64 hex digits of a hash at `at`; returns the index after them. */
function writeHex(bytes: Uint8Array, at: number, hash: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const byte = hash[i];
    bytes[at++] = HEX_DIGITS[byte >> 4];
    bytes[at++] = HEX_DIGITS[byte & 15];
  }
  return at;
}

function sharedBytes(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/**
 * Writes rows (column by column, in EVENT_COLUMNS order) and chains them: `beginRow`, one call per column,
 * `endRow` (which hashes the row). `take` hands the rows written so far over and starts afresh.
 * With `chainLater`, rows are written with room for the previous hash and not hashed: whoever reads them
 * in order chains them (RowReader.chainRow; the store's writer thread does, so hashing uses the other core).
 */
export class RowPacker {
  private bytes: Buffer;
  private columns: Float64Array;
  private hashes: Buffer;
  private pos = 0;
  private rows = 0;
  private column = 0;
  private rowStart = 0;
  private head: Buffer;

  private readonly minimumBytes: number;
  /** Where the last origin columns were written (origin()). */
  private lastOrigin: { receivedAt: string; transport: string; peer: string; format: string; bytes: Buffer; start: number; end: number; marks: number[] } | undefined;
  /**
   * Buffers of committed batches, written over by the next ones: a fresh shared buffer costs page faults and
   * zeroing (~0.5 us per row when every other batch got one). As many as a backlog can hold in flight.
   */
  private readonly spare: PackedRows[] = [];

  constructor(
    head: Buffer,
    private readonly key: string | Buffer | undefined,
    private rowCapacity: number,
    private byteCapacity: number,
    readonly chainLater = false,
  ) {
    if (chainLater && key !== undefined) throw new Error('packed rows: a keyed chain is hashed where the key is (not later)');
    this.head = head;
    this.minimumBytes = byteCapacity;
    this.bytes = sharedBytes(byteCapacity);
    this.columns = new Float64Array(new SharedArrayBuffer(rowCapacity * COLUMN_COUNT * 8));
    this.hashes = sharedBytes(rowCapacity * 32);
  }

  /** Rows written since the last take. */
  get count(): number {
    return this.rows;
  }

  /** Bytes written since the last take. */
  get size(): number {
    return this.pos;
  }

  /** Hash of the last row written (the head the next one links to); the initial head with chainLater. */
  get lastHash(): Buffer {
    return this.head;
  }

  /** The rows written so far; the packer starts a new batch (of the same capacity) linked to the last one. */
  take(): PackedRows {
    const rows: PackedRows = {
      bytes: this.bytes.subarray(0, this.pos),
      columns: this.columns.subarray(0, this.rows * COLUMN_COUNT),
      hashes: this.hashes.subarray(0, this.rows * 32),
    };
    // Sized for the recent batches (a high-water mark that decays): a short batch (sent by the timer) does
    // not make the next full one grow its buffer again, and one batch of huge frames is forgotten soon.
    this.byteCapacity = Math.max(this.minimumBytes, Math.ceil(this.pos * 1.25), Math.floor(this.byteCapacity * 0.9));
    const spare = this.spare.pop();
    if (spare !== undefined && spare.bytes.buffer.byteLength >= this.byteCapacity && spare.bytes.buffer.byteLength <= this.byteCapacity * 4 && spare.hashes.buffer.byteLength >= this.rowCapacity * 32) {
      this.bytes = Buffer.from(spare.bytes.buffer);
      this.columns = new Float64Array(spare.columns.buffer);
      this.hashes = Buffer.from(spare.hashes.buffer);
    } else {
      // A power of two: buffers allocated for batches of slightly different sizes all fit the next ones.
      this.bytes = sharedBytes(2 ** Math.ceil(Math.log2(this.byteCapacity)));
      this.columns = new Float64Array(new SharedArrayBuffer(this.rowCapacity * COLUMN_COUNT * 8));
      this.hashes = sharedBytes(this.rowCapacity * 32);
    }
    this.pos = 0;
    this.rows = 0;
    return rows;
  }

  /**
   * Hand back the rows of a batch nobody reads any more (committed, and handed to the listeners): their
   * buffers are written over by a later batch.
   */
  recycle(rows: PackedRows): void {
    if (this.spare.length < MAX_SPARES) this.spare.push(rows);
  }

  /** Keep at most `count` spare buffers (the store calls this when nothing is in flight). */
  trimSpares(count: number): void {
    if (this.spare.length > count) this.spare.length = count;
  }

  beginRow(): void {
    if (this.rows === this.rowCapacity) this.growRows();
    this.reserve(HEX_LENGTH + 64);
    this.rowStart = this.pos;
    // chainLater: the reader that chains the row writes the previous hash here.
    this.pos = this.chainLater ? this.pos + HEX_LENGTH : writeHex(this.bytes, this.pos, this.head);
    this.column = this.rows * COLUMN_COUNT;
  }

  /**
   * Hash the row (hex of the previous hash and the content, one range) and make it the head; with
   * chainLater only end it (undefined).
   */
  endRow(): Buffer | undefined {
    if (this.column !== (this.rows + 1) * COLUMN_COUNT) throw new Error(`packed row: ${this.column - this.rows * COLUMN_COUNT} columns written, ${COLUMN_COUNT} expected`);
    if (this.chainLater) {
      this.rows++;
      return undefined;
    }
    const at = this.rows * 32;
    hashRowInto(this.bytes.subarray(this.rowStart, this.pos), this.key, this.hashes, at);
    // A copy: the hashes buffer is written over by a later batch, the head outlives it.
    const hash = Buffer.from(this.hashes.subarray(at, at + 32));
    this.head = hash;
    this.rows++;
    return hash;
  }

  null(): void {
    this.reserve(1);
    this.bytes[this.pos++] = TILDE;
    this.columns[this.column++] = 0;
  }

  integer(value: number): void {
    this.reserve(24);
    this.bytes[this.pos++] = HASH_SIGN;
    this.decimal(value);
    this.bytes[this.pos++] = SEMICOLON;
    this.columns[this.column++] = value;
  }

  /**
   * The received_at, transport, peer and format columns: the same for every frame of a chunk, so written
   * once and then copied from the previous row while the strings are the same ones.
   */
  origin(receivedAt: string, transport: string, peer: string, format: string): void {
    const last = this.lastOrigin;
    if (last !== undefined && last.receivedAt === receivedAt && last.peer === peer && last.transport === transport && last.format === format && last.bytes === this.bytes) {
      const length = last.end - last.start;
      this.reserve(length);
      const bytes = this.bytes;
      const shift = this.pos - last.start;
      if (length <= SHORT * 2) {
        for (let i = 0; i < length; i++) bytes[this.pos + i] = bytes[last.start + i];
      } else {
        bytes.copyWithin(this.pos, last.start, last.end);
      }
      for (let i = 0; i < 4; i++) {
        const mark = last.marks[i];
        this.columns[this.column++] = mark >= 0 ? mark + shift : mark - shift;
      }
      last.start += shift;
      last.end += shift;
      for (let i = 0; i < 4; i++) last.marks[i] = this.columns[this.column - 4 + i];
      this.pos += length;
      return;
    }
    const start = this.pos;
    this.string(receivedAt);
    this.string(transport);
    this.string(peer);
    this.string(format);
    const marks = Array.from(this.columns.subarray(this.column - 4, this.column));
    this.lastOrigin = { receivedAt, transport, peer, format, bytes: this.bytes, start, end: this.pos, marks };
  }

  /** A string column (NULL when null). The string must be well-formed (rows.ts wellFormed) or come from decoding. */
  string(value: string | null): void {
    if (value === null) {
      this.null();
      return;
    }
    const length = value.length;
    this.lengthPrefix(length);
    this.reserve(length * 3);
    const bytes = this.bytes;
    let at = this.pos;
    let ascii = true;
    if (length <= SHORT) {
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          ascii = false;
          break;
        }
        bytes[at++] = code;
      }
      if (!ascii) at = this.pos + bytes.write(value, this.pos, 'utf8');
    } else {
      at = this.pos + bytes.write(value, this.pos, 'utf8');
      ascii = at - this.pos === length;
    }
    this.pos = at;
    this.columns[this.column++] = ascii ? at : -at;
  }

  /**
   * A string column given as bytes that are valid UTF-8 (`ascii` when they are all ASCII, else `units` is
   * the decoded string's length in UTF-16 units): copied as they are.
   */
  utf8Bytes(source: Uint8Array, start: number, end: number, ascii: boolean, units: number): void {
    this.lengthPrefix(ascii ? end - start : units);
    const length = end - start;
    this.reserve(length);
    const bytes = this.bytes;
    let at = this.pos;
    if (length <= SHORT) {
      for (let i = start; i < end; i++) bytes[at++] = source[i];
    } else {
      bytes.set(source.subarray(start, end), at);
      at += length;
    }
    this.pos = at;
    this.columns[this.column++] = ascii ? at : -at;
  }

  private lengthPrefix(length: number): void {
    this.reserve(17);
    this.decimal(length);
    this.bytes[this.pos++] = COLON;
  }

  /** A number as `String(value)` writes it, in ASCII; non-negative safe integers without making the string. */
  private decimal(value: number): void {
    const bytes = this.bytes;
    if (!Number.isSafeInteger(value) || value < 0) {
      const text = String(value);
      this.reserve(text.length);
      for (let i = 0; i < text.length; i++) bytes[this.pos++] = text.charCodeAt(i);
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.pos + digits;
    this.pos = at;
    let rest = value;
    do {
      bytes[--at] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  private reserve(extra: number): void {
    if (this.pos + extra <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.pos + extra) capacity *= 2;
    const grown = sharedBytes(capacity);
    this.bytes.copy(grown, 0, 0, this.pos);
    this.bytes = grown;
    this.byteCapacity = capacity;
  }

  private growRows(): void {
    const capacity = this.rowCapacity * 2;
    const columns = new Float64Array(new SharedArrayBuffer(capacity * COLUMN_COUNT * 8));
    columns.set(this.columns);
    const hashes = sharedBytes(capacity * 32);
    this.hashes.copy(hashes);
    this.columns = columns;
    this.hashes = hashes;
    this.rowCapacity = capacity;
  }
}

/** Buffer's own decoders (what toString(encoding, start, end) calls after checking its arguments). */
interface SliceableBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Short values that repeat from row to row (transport, peer, host, app, type...) are compared, not decoded again. */
const REUSE_UP_TO = 64;

/** Each column into the value of the same index (RowReader.next). */
const EVERY_SLOT: readonly number[] = EVENT_COLUMNS.map((_, index) => index);
/** The id into 0, the query columns after it, nothing else (RowReader.nextForInsert). */
const INSERT_SLOT: readonly number[] = EVENT_COLUMNS.map((_, index) => (index === 0 ? 0 : (QUERY_COLUMN_INDEXES.indexOf(index) + 1 || -1)));

/** Reads the rows of a PackedRows back, in order, as column values (EVENT_COLUMNS order). */
export class RowReader {
  private readonly bytes: SliceableBuffer;
  private pos = 0;
  private row = 0;
  /** Where the row last read starts (its previous-hash digits). */
  private rowStart = 0;
  /** Per column: where the previous row's string lay, and the string. */
  private readonly lastStart = new Array<number>(COLUMN_COUNT).fill(0);
  private readonly lastEnd = new Array<number>(COLUMN_COUNT).fill(-1);
  private readonly lastValue = new Array<string>(COLUMN_COUNT).fill('');

  constructor(private readonly rows: PackedRows) {
    this.bytes = Buffer.from(rows.bytes.buffer, rows.bytes.byteOffset, rows.bytes.byteLength) as SliceableBuffer;
  }

  /** The next row's values into `values` (reused by the caller); false after the last row. */
  next(values: ColumnValue[]): boolean {
    return this.walk(values, EVERY_SLOT);
  }

  /**
   * The next row as the writer inserts it (schema.ts): `values[0]` the id, then the QUERY_COLUMNS values,
   * then the content as bytes (a view into the batch, bound as text); false after the last row. Only the
   * query columns are decoded: the rest goes to SQLite as the bytes it is, in the content.
   */
  nextForInsert(values: Array<ColumnValue | Uint8Array>): boolean {
    if (!this.walk(values as ColumnValue[], INSERT_SLOT)) return false;
    values[QUERY_COLUMNS.length + 1] = this.bytes.subarray(this.rowStart + HEX_LENGTH, this.pos);
    return true;
  }

  /** Walk the next row's columns; a column whose slot is >= 0 is decoded into values[slot]. */
  private walk(values: ColumnValue[], slots: readonly number[]): boolean {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) return false;
    const columns = this.rows.columns;
    let column = this.row * COLUMN_COUNT;
    this.rowStart = this.pos;
    let pos = this.pos + HEX_LENGTH;
    for (let i = 0; i < COLUMN_COUNT; i++, column++) {
      const slot = slots[i];
      const first = bytes[pos];
      if (first === TILDE) {
        if (slot >= 0) values[slot] = null;
        pos++;
      } else if (first === HASH_SIGN) {
        if (slot >= 0) values[slot] = columns[column];
        pos++;
        while (bytes[pos] !== SEMICOLON) pos++;
        pos++;
      } else {
        const mark = columns[column];
        const end = mark >= 0 ? mark : -mark;
        if (slot < 0) {
          pos = end;
          continue;
        }
        while (bytes[pos] !== COLON) pos++;
        const start = pos + 1;
        const length = end - start;
        const lastStart = this.lastStart[i];
        if (length <= REUSE_UP_TO && this.lastEnd[i] - lastStart === length && sameRange(bytes, lastStart, start, length)) {
          values[slot] = this.lastValue[i];
        } else {
          const value = mark >= 0 ? bytes.latin1Slice(start, end) : bytes.utf8Slice(start, end);
          values[slot] = value;
          this.lastValue[i] = value;
        }
        this.lastStart[i] = start;
        this.lastEnd[i] = end;
        pos = end;
      }
    }
    this.pos = pos;
    this.row++;
    return true;
  }

  /** The hash of the row last read. */
  hash(): Buffer {
    const hashes = this.rows.hashes;
    return Buffer.from(hashes.buffer, hashes.byteOffset + (this.row - 1) * 32, 32);
  }

  /**
   * Chain the row last read (written with chainLater) to `prev`: its previous-hash digits are written in
   * place, the row hashed, the hash stored with the rows; returns it (as hash() would).
   */
  chainRow(prev: Uint8Array): Buffer {
    writeHex(this.bytes, this.rowStart, prev);
    const stored = this.hash();
    hashRowInto(this.bytes.subarray(this.rowStart, this.pos), undefined, stored, 0);
    return stored;
  }
}

function sameRange(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}
