/**
 * Splitting a TCP/TLS byte stream into syslog frames (RFC 6587), whatever the chunking.
 *
 * Each frame decides its own framing from its first byte: a digit run followed by a space is an octet
 * count (`<len> <msg>`), anything else (normally `<`) is a frame ended by LF, from senders that cannot
 * count. LF, CR, NUL, space and tab between frames are skipped. A frame longer than the cap is cut at the
 * cap and the rest of it discarded (never turned into a second frame). Work is done on Buffers: a frame
 * that lies inside one chunk is a view of it, not a copy.
 */

export type Framing = 'octet' | 'lf';

export interface Frame {
  data: Buffer;
  framing: Framing;
  /** Cut at the cap, or cut short by a flush (an octet count that never arrived in full). */
  truncated: boolean;
}

/**
 * `oversize`: a frame over the cap (kept truncated); `bad_octet_count`: digits not followed by a space, too
 * many digits or a zero count (the bytes are kept as an LF-terminated frame); `empty_frame`: an octet-counted
 * frame cut short before any of its bytes arrived (nothing to keep).
 */
export type FramerProblem = 'oversize' | 'bad_octet_count' | 'empty_frame';

export interface FramerOptions {
  maxFrameBytes: number;
  onFrame(frame: Frame): void;
  onProblem(problem: FramerProblem): void;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** 9 digits: up to ~1 GB declared; a longer run is not a count. */
const MAX_COUNT_DIGITS = 9;

const enum State {
  Start,
  Count,
  Octet,
  Line,
}

function isSeparator(byte: number): boolean {
  return byte === LF || byte === CR || byte === 0 || byte === SPACE || byte === 0x09;
}

export class StreamFramer {
  private state = State.Start;
  private count = 0;
  private countDigits = 0;
  /** Octet state: bytes of the frame still to come (kept or discarded). */
  private remaining = 0;
  private readonly parts: Buffer[] = [];
  private keptBytes = 0;
  /** Bytes beyond the cap were discarded. */
  private overCap = false;
  /** Ended by a flush before the frame was complete. */
  private cutShort = false;
  private readonly maxFrameBytes: number;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onProblem: (problem: FramerProblem) => void;

  constructor(options: FramerOptions) {
    this.maxFrameBytes = options.maxFrameBytes;
    this.onFrame = options.onFrame;
    this.onProblem = options.onProblem;
  }

  /** A frame has begun and not ended. */
  get hasPartialFrame(): boolean {
    return this.state !== State.Start;
  }

  /** Bytes held for the frame in progress (bounded by the cap plus a count). */
  get bufferedBytes(): number {
    return this.keptBytes;
  }

  push(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    // Where the current frame's not yet kept bytes start in this chunk (Count and Line states).
    let segmentStart = 0;
    while (pos < length) {
      switch (this.state) {
        case State.Start: {
          const byte = chunk[pos];
          if (isSeparator(byte)) {
            pos++;
            continue;
          }
          segmentStart = pos;
          if (byte >= DIGIT_0 && byte <= DIGIT_9) {
            this.state = State.Count;
            this.count = 0;
            this.countDigits = 0;
          } else {
            this.state = State.Line;
          }
          continue;
        }
        case State.Count: {
          const byte = chunk[pos];
          if (byte >= DIGIT_0 && byte <= DIGIT_9 && this.countDigits < MAX_COUNT_DIGITS) {
            this.count = this.count * 10 + (byte - DIGIT_0);
            this.countDigits++;
            pos++;
            continue;
          }
          if (byte === SPACE && this.countDigits > 0 && this.count > 0) {
            this.resetParts();
            this.remaining = this.count;
            this.state = State.Octet;
            pos++;
            continue;
          }
          // Not a count: the digits are the start of a frame that ends at LF.
          this.onProblem('bad_octet_count');
          this.state = State.Line;
          continue;
        }
        case State.Octet: {
          const take = Math.min(this.remaining, length - pos);
          this.keep(chunk, pos, pos + take);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.emit('octet');
          continue;
        }
        case State.Line: {
          const lf = chunk.indexOf(LF, pos);
          if (lf === -1) {
            pos = length;
            continue;
          }
          this.keep(chunk, segmentStart, lf);
          pos = lf + 1;
          this.emit('lf');
          continue;
        }
      }
    }
    if (this.state === State.Count || this.state === State.Line) this.keep(chunk, segmentStart, length);
  }

  /**
   * End of input (connection closed, or the partial frame timed out): a frame in progress is delivered as it
   * stands. An unfinished octet-counted frame is marked truncated; an LF frame without its LF is complete
   * (many senders close without a final LF). Returns whether a frame was delivered.
   */
  flush(): boolean {
    switch (this.state) {
      case State.Start:
        return false;
      case State.Line:
        this.emit('lf');
        return true;
      case State.Count:
        // Only digits arrived: keep them as a frame, marked as cut short.
        this.cutShort = true;
        this.emit('lf');
        return true;
      case State.Octet:
        if (this.keptBytes === 0) {
          this.resetParts();
          this.state = State.Start;
          this.onProblem('empty_frame');
          return false;
        }
        this.cutShort = true;
        this.emit('octet');
        return true;
    }
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const room = this.maxFrameBytes - this.keptBytes;
    if (room <= 0) {
      this.overCap = true;
      return;
    }
    const stop = end - start > room ? start + room : end;
    if (stop < end) this.overCap = true;
    this.parts.push(chunk.subarray(start, stop));
    this.keptBytes += stop - start;
  }

  private emit(framing: Framing): void {
    let data = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.keptBytes);
    if (framing === 'lf' && data.length > 0 && data[data.length - 1] === CR) data = data.subarray(0, data.length - 1);
    const overCap = this.overCap;
    const truncated = overCap || this.cutShort;
    this.resetParts();
    this.state = State.Start;
    if (overCap) this.onProblem('oversize');
    this.onFrame({ data, framing, truncated });
  }

  private resetParts(): void {
    this.parts.length = 0;
    this.keptBytes = 0;
    this.overCap = false;
    this.cutShort = false;
  }
}
