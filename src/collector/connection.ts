import type { Socket } from 'node:net';
import { StreamFramer, type Frame, type FramerProblem } from './framing';
import type { Transport } from './record';
import type { RejectReason } from './stats';

/** What a stream connection needs from the collector. */
export interface ConnectionHost {
  frame(connection: StreamConnection, frame: Frame): void;
  problem(connection: StreamConnection, reason: RejectReason): void;
  afterChunk(connection: StreamConnection): void;
  /** The peer half-closed: its last ACKs are due, then our side ends. */
  peerEnded(connection: StreamConnection): void;
  closed(connection: StreamConnection): void;
}

export function peerName(address: string, port: number | undefined): string {
  return address.includes(':') ? `[${address}]:${port ?? 0}` : `${address}:${port ?? 0}`;
}

/**
 * One TCP or TLS connection: frames its bytes, stamps them with the time they arrived, and closes itself
 * when idle or when a frame stays incomplete too long (the partial frame is kept, flagged truncated).
 */
export class StreamConnection {
  readonly ip: string;
  readonly peer: string;
  /** receivedAt of the chunk being framed. */
  receivedAt = '';
  private readonly framer: StreamFramer;
  private partialSince = 0;
  private framesEmitted = 0;
  private done = false;
  private paused = false;
  private readonly idleTimeoutMs: number;

  constructor(
    readonly socket: Socket,
    readonly transport: Transport,
    private readonly host: ConnectionHost,
    limits: { maxFrameBytes: number; idleTimeoutMs: number },
  ) {
    this.ip = socket.remoteAddress ?? 'unknown';
    this.idleTimeoutMs = limits.idleTimeoutMs;
    this.peer = peerName(this.ip, socket.remotePort);
    this.framer = new StreamFramer({
      maxFrameBytes: limits.maxFrameBytes,
      onFrame: (frame) => {
        this.framesEmitted++;
        host.frame(this, frame);
      },
      onProblem: (problem: FramerProblem) => host.problem(this, problem),
    });
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('timeout', () => this.abort('idle_timeout'));
    socket.on('end', () => {
      this.finish();
      host.peerEnded(this);
    });
    socket.on('error', () => host.problem(this, 'socket_error'));
    socket.on('close', () => {
      this.finish();
      host.closed(this);
    });
  }

  /** When the frame now in progress began (ms), 0 when none is or while reading is paused. */
  get partialFrameSince(): number {
    return this.paused ? 0 : this.partialSince;
  }

  /**
   * Stop reading while the store catches up. The idle and frame clocks stop too: a sender we are not
   * reading from is not idle, and its frame is not late.
   */
  pause(): void {
    if (this.paused || this.done) return;
    this.paused = true;
    this.socket.pause();
    this.socket.setTimeout(0);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.partialSince !== 0) this.partialSince = Date.now();
    if (this.done) return;
    this.socket.setTimeout(this.idleTimeoutMs);
    this.socket.resume();
  }

  private data(chunk: Buffer): void {
    if (this.done) return;
    const now = Date.now();
    this.receivedAt = new Date(now).toISOString();
    const before = this.framesEmitted;
    this.framer.push(chunk);
    if (!this.framer.hasPartialFrame) this.partialSince = 0;
    else if (this.partialSince === 0 || this.framesEmitted !== before) this.partialSince = now;
    this.host.afterChunk(this);
  }

  /** Keep what arrived of a frame in progress, and stop reading. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.framer.hasPartialFrame) {
      if (this.receivedAt === '') this.receivedAt = new Date().toISOString();
      this.framer.flush();
    }
    this.partialSince = 0;
  }

  /** Close for a reason (idle, frame timeout, shutdown), keeping the partial frame. */
  abort(reason: RejectReason | undefined): void {
    if (reason !== undefined) this.host.problem(this, reason);
    this.finish();
    this.socket.destroy();
  }

  /** Write ACK lines unless the peer stopped reading them (they are cumulative: a later one replaces a lost one). */
  writeAcks(lines: string, maxBacklogBytes: number): boolean {
    if (this.socket.destroyed || !this.socket.writable || this.socket.writableLength > maxBacklogBytes) return false;
    this.socket.write(lines);
    return true;
  }
}
