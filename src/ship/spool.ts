import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from './crc32';
import { acquireSpoolLock, releaseSpoolLock } from './spool-lock';

/**
 * The on-disk queue of a transport: every event is appended here before it is sent, and stays until it
 * is acknowledged or has left the replay window. The spool is the only queue, so memory stays bounded.
 *
 * Layout: a directory of segment files `seg-<12 digits>.spool`, appended in order, each a run of records
 *
 *     u32 bodyLength | u32 crc32(body) | body = f64 storedAt | f64 seq | u8 n | instance (n bytes) | message
 *
 * (big-endian). A torn tail (crash in mid-write) or a corrupted record fails its length or CRC check; the
 * segment is cut there when the spool is opened. Writes are batched by the owner (`flush`, once per event
 * loop turn) and made durable by `sync` (fdatasync, on a short timer): a killed process loses nothing
 * flushed; a power cut loses at most the last sync interval.
 */

/** A place in the spool. `ordinal` numbers records in order since the spool was opened: positions compare by it. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
  readonly ordinal: number;
}

export interface SpoolRecord {
  readonly instance: string;
  readonly seq: number;
  /** When it was appended, ms since the epoch. */
  readonly storedAt: number;
  /** The wire message (RFC 5424, unframed). */
  readonly message: Buffer;
  readonly start: SpoolPosition;
  readonly end: SpoolPosition;
}

export interface SpoolOptions {
  dir: string;
  /** Bound on the bytes on disk; default 64 MiB. */
  maxBytes?: number;
  /** A segment is sealed once it reaches this size; default 4 MiB (at most a quarter of maxBytes). */
  segmentBytes?: number;
  /** Room beyond maxBytes for priority records (the sys_monitor_* events that report the loss); default 256 KiB. */
  reserveBytes?: number;
  now?: () => number;
}

/** What the spool knows about one segment without reading it. */
export interface SegmentInfo {
  readonly index: number;
  bytes: number;
  records: number;
  readonly firstOrdinal: number;
  lastStoredAt: number;
  /** Highest seq per instance in the segment: lets acknowledgements retire whole segments. */
  readonly maxSeq: Map<string, number>;
}

/** What opening the spool found and repaired. */
export interface SpoolRecovery {
  segments: number;
  records: number;
  /** Bytes cut off segments at a torn or corrupt record. */
  truncatedBytes: number;
  /** Segments in which a record failed its check. */
  corruptSegments: number;
}

export class SpoolFullError extends Error {
  constructor(readonly bytes: number, readonly maxBytes: number) {
    super(`spool full: ${bytes} of ${maxBytes} bytes in use`);
    this.name = 'SpoolFullError';
  }
}

/** The disk failed; the records in `lostRecords` did not reach it. The spool must be closed and reopened. */
export class SpoolIoError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly lostRecords: number,
  ) {
    super(`${message}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SpoolIoError';
  }
}

const HEADER_BYTES = 8;
const META_BYTES = 17;
/** A length beyond this is garbage, not a record. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SEGMENT_NAME = /^seg-(\d{12})\.spool$/;

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);
const closeFd = promisify(fs.close);
const openFile = promisify(fs.open);

function segmentName(index: number): string {
  return `seg-${String(index).padStart(12, '0')}.spool`;
}

/** Length of the record at `at`, or -1 when the buffer ends inside it, -2 when it is corrupt. */
function recordLength(buf: Buffer, at: number): number {
  if (buf.length - at < HEADER_BYTES) return -1;
  const body = buf.readUInt32BE(at);
  if (body < META_BYTES || body > MAX_BODY_BYTES) return -2;
  if (buf.length - at - HEADER_BYTES < body) return -1;
  const bodyStart = at + HEADER_BYTES;
  const instanceBytes = buf[bodyStart + 16];
  if (META_BYTES + instanceBytes > body) return -2;
  if (crc32(buf.subarray(bodyStart, bodyStart + body)) !== buf.readUInt32BE(at + 4)) return -2;
  return HEADER_BYTES + body;
}

interface RecordFields {
  storedAt: number;
  seq: number;
  instance: string;
  message: Buffer;
}

function recordFields(buf: Buffer, at: number, length: number, copy: boolean): RecordFields {
  const bodyStart = at + HEADER_BYTES;
  const instanceBytes = buf[bodyStart + 16];
  const messageStart = bodyStart + META_BYTES + instanceBytes;
  const message = buf.subarray(messageStart, at + length);
  return {
    storedAt: buf.readDoubleBE(bodyStart),
    seq: buf.readDoubleBE(bodyStart + 8),
    instance: buf.toString('utf8', bodyStart + META_BYTES, messageStart),
    message: copy ? Buffer.from(message) : message,
  };
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly reserveBytes: number;
  readonly recovery: SpoolRecovery = { segments: 0, records: 0, truncatedBytes: 0, corruptSegments: 0 };
  /** Records found corrupt while reading after open (the disk changed under us). */
  corruptReads = 0;

  private readonly now: () => number;
  private readonly segments: SegmentInfo[] = [];
  private readonly lockPath: string;
  private fd = -1;
  private flushedBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  private nextOrdinal = 0;
  private totalBytes = 0;
  /** Sealed segments' descriptors, closed after their last fdatasync. */
  private retiring: number[] = [];
  private dirDirty = false;
  private unsynced = false;
  private syncing: Promise<void> | undefined;
  private reader: { index: number; fd: number } | undefined;
  private broken = false;
  private closed = false;

  constructor(options: SpoolOptions) {
    this.dir = path.resolve(options.dir);
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.segmentBytes = Math.min(options.segmentBytes ?? 4 * 1024 * 1024, Math.max(4096, Math.floor(this.maxBytes / 4)));
    this.reserveBytes = options.reserveBytes ?? 256 * 1024;
    this.now = options.now ?? Date.now;
    fs.mkdirSync(this.dir, { recursive: true });
    this.lockPath = acquireSpoolLock(this.dir);
    try {
      this.scan();
      this.openActive();
    } catch (error) {
      this.closeDescriptors();
      releaseSpoolLock(this.lockPath);
      throw error;
    }
  }

  /** Bytes on disk and pending. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Records held. */
  get records(): number {
    return this.nextOrdinal - this.segments[0].firstOrdinal;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Records appended but not yet written (`flush`). */
  get pendingCount(): number {
    return this.pendingRecords;
  }

  get start(): SpoolPosition {
    const first = this.segments[0];
    return { segment: first.index, offset: 0, ordinal: first.firstOrdinal };
  }

  get end(): SpoolPosition {
    const active = this.active;
    return { segment: active.index, offset: active.bytes, ordinal: this.nextOrdinal };
  }

  /** The segments, oldest first (read-only views for retention decisions). */
  get segmentInfos(): readonly Readonly<SegmentInfo>[] {
    return this.segments;
  }

  /**
   * Queue a record for the next flush; returns where it lies. Throws SpoolFullError when it does not fit
   * (priority records may use the reserve), SpoolIoError when a segment change hit a disk error.
   */
  append(instance: string, seq: number, message: Buffer, priority = false): { start: SpoolPosition; end: SpoolPosition } {
    this.assertUsable();
    const instanceBytes = Buffer.byteLength(instance);
    if (instanceBytes > 255) throw new TypeError('instance id longer than 255 bytes');
    const body = META_BYTES + instanceBytes + message.length;
    if (body > MAX_BODY_BYTES) throw new TypeError('message too large for the spool');
    const recordBytes = HEADER_BYTES + body;
    const limit = this.maxBytes + (priority ? this.reserveBytes : 0);
    if (this.totalBytes + recordBytes > limit) throw new SpoolFullError(this.totalBytes, this.maxBytes);
    if (this.active.bytes > 0 && this.active.bytes + recordBytes > this.segmentBytes) this.rotate();
    const segment = this.active;
    const storedAt = this.now();
    const head = Buffer.allocUnsafe(HEADER_BYTES + META_BYTES + instanceBytes);
    head.writeUInt32BE(body, 0);
    head.writeDoubleBE(storedAt, 8);
    head.writeDoubleBE(seq, 16);
    head[24] = instanceBytes;
    head.write(instance, 25, 'utf8');
    head.writeUInt32BE(crc32(message, crc32(head.subarray(HEADER_BYTES))), 4);
    this.pending.push(head, message);
    this.pendingBytes += recordBytes;
    this.pendingRecords++;
    const start: SpoolPosition = { segment: segment.index, offset: segment.bytes, ordinal: this.nextOrdinal };
    segment.bytes += recordBytes;
    segment.records++;
    segment.lastStoredAt = storedAt;
    const known = segment.maxSeq.get(instance);
    if (known === undefined || seq > known) segment.maxSeq.set(instance, seq);
    this.nextOrdinal++;
    this.totalBytes += recordBytes;
    return { start, end: { segment: segment.index, offset: segment.bytes, ordinal: this.nextOrdinal } };
  }

  /** Write the pending records to the active segment (one writev). Throws SpoolIoError on a disk error. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.assertUsable();
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    const records = this.pendingRecords;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    let written: number;
    try {
      written = fs.writevSync(this.fd, buffers, this.flushedBytes);
    } catch (error) {
      this.failWrite(error, records);
    }
    if (written !== bytes) this.failWrite(new Error(`short write: ${written} of ${bytes} bytes`), records);
    this.flushedBytes += bytes;
    this.unsynced = true;
  }

  /** fdatasync what was flushed (in the thread pool); concurrent calls share one sync. */
  sync(): Promise<void> {
    if (this.syncing !== undefined) return this.syncing;
    if (this.closed || this.broken || (!this.unsynced && this.retiring.length === 0 && !this.dirDirty)) return Promise.resolve();
    const fd = this.fd;
    const syncActive = this.unsynced;
    const retiring = this.retiring.splice(0);
    const syncDir = this.dirDirty;
    this.unsynced = false;
    this.dirDirty = false;
    this.syncing = (async () => {
      try {
        if (syncActive) await fdatasync(fd);
        for (const old of retiring) {
          try {
            await fdatasync(old);
          } finally {
            await closeFd(old);
          }
        }
        if (syncDir) {
          // A new segment's directory entry must be durable too, or a power cut loses the whole file.
          const dirFd = await openFile(this.dir, 'r');
          try {
            await fsync(dirFd);
          } finally {
            await closeFd(dirFd);
          }
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /**
   * Records from `from` on, up to about maxBytes (at least one record), flushing first. A position whose
   * segment was trimmed away reads from the oldest record still held.
   */
  read(from: SpoolPosition, maxBytes = 256 * 1024): { records: SpoolRecord[]; next: SpoolPosition } {
    this.flush();
    let position = this.normalise(from);
    for (;;) {
      if (position.ordinal >= this.nextOrdinal) return { records: [], next: this.end };
      const segmentAt = this.segments.findIndex((segment) => segment.index === position.segment);
      const segment = this.segments[segmentAt];
      const isActive = segmentAt === this.segments.length - 1;
      const available = (isActive ? this.flushedBytes : segment.bytes) - position.offset;
      if (available <= 0) {
        if (isActive) return { records: [], next: position };
        position = this.segmentStart(segmentAt + 1);
        continue;
      }
      const fd = this.readerFor(segment.index);
      let buf = Buffer.allocUnsafe(Math.min(available, Math.max(maxBytes, HEADER_BYTES)));
      let got = fs.readSync(fd, buf, 0, buf.length, position.offset);
      if (got >= HEADER_BYTES) {
        // A record larger than maxBytes is read whole.
        const needed = HEADER_BYTES + buf.readUInt32BE(0);
        if (needed > got && needed <= available && needed <= HEADER_BYTES + MAX_BODY_BYTES) {
          buf = Buffer.allocUnsafe(needed);
          got = fs.readSync(fd, buf, 0, needed, position.offset);
        }
      }
      buf = buf.subarray(0, got);
      const records: SpoolRecord[] = [];
      let at = 0;
      let ordinal = position.ordinal;
      let corrupt = false;
      for (;;) {
        const length = recordLength(buf, at);
        if (length === -1) break;
        if (length === -2) {
          corrupt = true;
          break;
        }
        const fields = recordFields(buf, at, length, false);
        const start = { segment: segment.index, offset: position.offset + at, ordinal };
        at += length;
        ordinal++;
        records.push({ ...fields, start, end: { segment: segment.index, offset: position.offset + at, ordinal } });
      }
      if (records.length > 0) return { records, next: records[records.length - 1].end };
      if (!corrupt) return { records: [], next: position };
      // The disk changed under us since the open scan: skip what is left of this segment.
      this.corruptReads++;
      if (isActive) return { records: [], next: this.end };
      position = this.segmentStart(segmentAt + 1);
    }
  }

  /** The position of the first record (from `from` on) that `match` accepts, or the end. */
  find(match: (record: SpoolRecord) => boolean, from: SpoolPosition = this.start): SpoolPosition {
    let position = from;
    for (;;) {
      const { records, next } = this.read(position);
      if (records.length === 0) return next.ordinal >= this.nextOrdinal ? this.end : next;
      for (const record of records) if (match(record)) return record.start;
      position = next;
    }
  }

  /** The position of the record with this ordinal (clamped to start and end). */
  positionOf(ordinal: number): SpoolPosition {
    if (ordinal <= this.segments[0].firstOrdinal) return this.start;
    if (ordinal >= this.nextOrdinal) return this.end;
    let segmentAt = this.segments.length - 1;
    while (segmentAt > 0 && this.segments[segmentAt].firstOrdinal > ordinal) segmentAt--;
    return this.find((record) => record.start.ordinal >= ordinal, this.segmentStart(segmentAt));
  }

  /** Delete the oldest sealed segments while `done` says so; returns how many records went. */
  trimWhile(done: (segment: Readonly<SegmentInfo>) => boolean): number {
    this.assertUsable();
    let removed = 0;
    while (this.segments.length > 1 && done(this.segments[0])) {
      const segment = this.segments[0];
      if (this.reader?.index === segment.index) this.closeReader();
      try {
        fs.unlinkSync(path.join(this.dir, segmentName(segment.index)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new SpoolIoError('cannot delete a spool segment', error, 0);
      }
      this.segments.shift();
      this.totalBytes -= segment.bytes;
      removed += segment.records;
    }
    return removed;
  }

  /** Delete the sealed segments that lie wholly before `position`. */
  trimBefore(position: SpoolPosition): number {
    return this.trimWhile((segment) => segment.firstOrdinal + segment.records <= position.ordinal);
  }

  /** Flush, sync and close the files, release the lock. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.broken) this.flush();
    } catch {
      // Counted by the owner through the SpoolIoError it already saw or will see on its own flush.
    }
    this.closed = true;
    try {
      await this.syncing;
    } catch {
      // The final sync below reports nothing more useful.
    }
    this.closeDescriptors(true);
    releaseSpoolLock(this.lockPath);
  }

  private get active(): SegmentInfo {
    return this.segments[this.segments.length - 1];
  }

  private assertUsable(): void {
    if (this.closed) throw new SpoolIoError('spool closed', 'closed', 0);
    if (this.broken) throw new SpoolIoError('spool failed earlier', 'broken', 0);
  }

  private failWrite(error: unknown, lostRecords: number): never {
    this.broken = true;
    try {
      // Cut a partial write off, so the segment stays readable.
      fs.ftruncateSync(this.fd, this.flushedBytes);
    } catch {
      // The reopen scan will cut it instead.
    }
    throw new SpoolIoError('cannot write the spool', error, lostRecords);
  }

  private segmentStart(segmentAt: number): SpoolPosition {
    const segment = this.segments[segmentAt];
    return { segment: segment.index, offset: 0, ordinal: segment.firstOrdinal };
  }

  private normalise(position: SpoolPosition): SpoolPosition {
    if (position.ordinal < this.segments[0].firstOrdinal || position.segment < this.segments[0].index) return this.start;
    if (position.ordinal >= this.nextOrdinal) return this.end;
    return position;
  }

  private readerFor(index: number): number {
    if (this.reader?.index === index) return this.reader.fd;
    this.closeReader();
    const fd = fs.openSync(path.join(this.dir, segmentName(index)), 'r');
    this.reader = { index, fd };
    return fd;
  }

  private closeReader(): void {
    if (this.reader === undefined) return;
    try {
      fs.closeSync(this.reader.fd);
    } catch {
      // Already gone.
    }
    this.reader = undefined;
  }

  private rotate(): void {
    this.flush();
    this.retiring.push(this.fd);
    this.fd = -1;
    const index = this.active.index + 1;
    try {
      this.fd = fs.openSync(path.join(this.dir, segmentName(index)), 'wx');
    } catch (error) {
      this.broken = true;
      throw new SpoolIoError('cannot create a spool segment', error, 0);
    }
    this.segments.push({ index, bytes: 0, records: 0, firstOrdinal: this.nextOrdinal, lastStoredAt: 0, maxSeq: new Map() });
    this.flushedBytes = 0;
    this.dirDirty = true;
  }

  /** Read every segment, cut torn or corrupt tails, drop empty files, number the records. */
  private scan(): void {
    const names = fs
      .readdirSync(this.dir)
      .filter((name) => SEGMENT_NAME.test(name))
      .sort();
    for (const name of names) {
      const index = Number.parseInt(SEGMENT_NAME.exec(name)![1], 10);
      const file = path.join(this.dir, name);
      const buf = fs.readFileSync(file);
      const info: SegmentInfo = { index, bytes: 0, records: 0, firstOrdinal: this.nextOrdinal, lastStoredAt: 0, maxSeq: new Map() };
      const kept: Buffer[] = [];
      let at = 0;
      let corrupt = false;
      while (at < buf.length) {
        const length = recordLength(buf, at);
        if (length > 0) {
          const fields = recordFields(buf, at, length, false);
          info.records++;
          info.lastStoredAt = fields.storedAt;
          const known = info.maxSeq.get(fields.instance);
          if (known === undefined || fields.seq > known) info.maxSeq.set(fields.instance, fields.seq);
          kept.push(buf.subarray(at, at + length));
          info.bytes += length;
          at += length;
          continue;
        }
        // Resynchronise on the next record that passes its check; none means a torn tail.
        let next = at + 1;
        while (next < buf.length && recordLength(buf, next) <= 0) next++;
        if (next < buf.length) corrupt = true;
        this.recovery.truncatedBytes += next - at;
        at = next;
      }
      if (corrupt) {
        this.recovery.corruptSegments++;
        const repaired = `${file}.repair`;
        fs.writeFileSync(repaired, Buffer.concat(kept));
        const fd = fs.openSync(repaired, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(repaired, file);
      } else if (info.bytes < buf.length) {
        fs.truncateSync(file, info.bytes);
      }
      if (info.records === 0) {
        fs.unlinkSync(file);
        continue;
      }
      this.segments.push(info);
      this.nextOrdinal += info.records;
      this.totalBytes += info.bytes;
      this.recovery.segments++;
      this.recovery.records += info.records;
    }
  }

  private openActive(): void {
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.bytes < this.segmentBytes) {
      this.fd = fs.openSync(path.join(this.dir, segmentName(last.index)), 'r+');
      this.flushedBytes = last.bytes;
      return;
    }
    const index = last === undefined ? 1 : last.index + 1;
    this.fd = fs.openSync(path.join(this.dir, segmentName(index)), 'wx');
    this.segments.push({ index, bytes: 0, records: 0, firstOrdinal: this.nextOrdinal, lastStoredAt: 0, maxSeq: new Map() });
    this.flushedBytes = 0;
    this.dirDirty = true;
  }

  private closeDescriptors(syncFirst = false): void {
    this.closeReader();
    for (const fd of [...this.retiring, this.fd]) {
      if (fd < 0) continue;
      try {
        if (syncFirst && !this.broken) fs.fdatasyncSync(fd);
      } catch {
        // Closing anyway: the data reached the page cache at least.
      }
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
    }
    this.retiring = [];
    this.fd = -1;
  }
}
