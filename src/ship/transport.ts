import TransportStream from 'winston-transport';
import type { AuditEvent } from '../events';
import type { BackoffOptions } from './backoff';
import { CollectorConnection, parseCollectorUrl, type CollectorTarget, type CollectorTlsOptions } from './connection';
import { formatRfc5424 } from './rfc5424';
import { Spool, SpoolFullError, SpoolIoError, type SpoolPosition } from './spool';

/** What a winston `info` must carry for this transport: the (sanitized) audit event. */
export interface AuditInfo {
  level: string;
  message: string;
  event: AuditEvent;
  /** Reports about the logging itself (sys_monitor_*): may use the spool's reserve when it is full. */
  priority?: boolean;
}

export interface SyslogTransportOptions extends TransportStream.TransportStreamOptions {
  /** `tcp://host:port`, `tls://host:port` or `udp://host:port` (UDP is lossy: best effort only). */
  collector: string | CollectorTarget;
  tls?: CollectorTlsOptions;
  /** The spool directory; one transport (one process) at a time. */
  spoolDir: string;
  /** Default 64 MiB. */
  spoolMaxBytes?: number;
  /** Default 4 MiB. */
  spoolSegmentBytes?: number;
  /** fdatasync the spool this often; 0 never syncs (a killed process loses nothing, a power cut may). Default 100 ms. */
  fsyncIntervalMs?: number;
  /**
   * Against a collector that does not acknowledge (rsyslog), after a reconnect resend what was sent in the
   * last replayWindowMs before the connection was lost, at most replayWindowCount events.
   * Defaults 10 s and 10000.
   */
  replayWindowMs?: number;
  replayWindowCount?: number;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  stallTimeoutMs?: number;
  /** close() waits this long at most for the collector to take (and acknowledge) what is spooled; default 2 s. */
  closeTimeoutMs?: number;
  /** After a disk error, try to reopen the spool this often; default 5 s. */
  spoolRetryMs?: number;
  /** RFC 5424 facility; default 13 (log audit). */
  facility?: number;
  procId?: string;
  /**
   * A message larger than this is sent without its detail (and says so), on every protocol. Default
   * 256 KiB; set it to the collector's limit (rsyslog: maxMessageSize, default 8 KiB, and imtcp's
   * MaxFrameSize, default 200000) so nothing is truncated there.
   */
  maxMessageBytes?: number;
  /** UDP: the limit is the smaller of this and maxMessageBytes; default 65507. */
  maxDatagramBytes?: number;
  /** UDP pacing: at most udpBurst datagrams per udpPaceMs (see ConnectionOptions). */
  udpBurst?: number;
  udpPaceMs?: number;
  now?: () => number;
}

/** `thread_backlog`: the shipping thread (createAuditLogger's `thread` option) fell too far behind. */
export type MonitorReason = 'spool_full' | 'spool_error' | 'file_error' | 'thread_backlog';

/** The transport stopped recording events (or its spool), or resumed. */
export interface MonitorChange {
  state: 'disabled' | 'enabled';
  reason: MonitorReason;
  /** Events lost since logging was disabled. */
  lost: number;
  error?: string;
}

export interface ShipStats {
  appended: number;
  sent: number;
  /** Events sent again after a reconnect. */
  replayed: number;
  lost: number;
  /** Sent straight to the collector while the spool was unusable. */
  sentUnspooled: number;
  /** winston infos without an audit event. */
  ignored: number;
  connected: boolean;
  connects: number;
  disconnects: number;
  failedAttempts: number;
  acks: number;
  ackMode: boolean;
  spoolBytes: number;
  spoolRecords: number;
  unsent: number;
  spoolError?: string;
  monitorDisabled: boolean;
  oversize: number;
}

interface FreshRecord {
  start: SpoolPosition;
  end: SpoolPosition;
  message: Buffer;
}

interface Checkpoint {
  at: number;
  position: SpoolPosition;
}

/** At most this many records wait in memory for the next flush; beyond it we flush at once. */
const MAX_FRESH_RECORDS = 1024;
const MAX_FRESH_BYTES = 1024 * 1024;
/** Without a spool (disk error), at most this many events wait in memory for the collector. */
const MAX_DIRECT_RECORDS = 1024;
const MAX_DIRECT_BYTES = 4 * 1024 * 1024;
/** Spool reads per event loop turn while catching up, so a long replay does not starve the application. */
const READS_PER_TURN = 8;
const CHECKPOINT_SPACING_MS = 20;
const MAX_CHECKPOINTS = 4096;
const MAX_ACK_INSTANCES = 1024;
const TRIM_EVERY_MS = 1000;
/** After "spool full", resume only below this share of the bound, so the loss is one contiguous gap. */
const RESUME_BELOW = 0.9;

function isAuditEvent(value: unknown): value is AuditEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Partial<AuditEvent>;
  return typeof event.type === 'string' && typeof event.instance === 'string' && typeof event.seq === 'number';
}

function later(a: SpoolPosition, b: SpoolPosition): SpoolPosition {
  return a.ordinal >= b.ordinal ? a : b;
}

/**
 * A winston transport that ships audit events as RFC 5424 over TCP or TLS (octet counting) or UDP, and
 * loses nothing it has accepted short of the disk failing:
 * - every event is appended to the on-disk spool before it is sent; the spool is the queue;
 * - after a reconnect, it resends from the first unacknowledged event (collectors that send
 *   `ACK <instance> <seq>`) or a window of recently sent events (collectors that cannot, like rsyslog);
 *   the collector drops duplicates by (instance, seq);
 * - a new process with the same spool directory resends what the old one left;
 * - reconnects back off exponentially up to a cap, with jitter; socket backpressure is honoured;
 * - a full spool or a disk error never throws: the transport emits 'monitor' (disabled, with the count
 *   lost) once, and again (enabled) when it recovers.
 * It never emits 'error'. Events: 'connect', 'disconnect' (error), 'monitor' (MonitorChange), 'closed'.
 */
export class SyslogTransport extends TransportStream {
  readonly target: CollectorTarget;
  readonly connection: CollectorConnection;

  private readonly options: SyslogTransportOptions;
  private readonly now: () => number;
  private readonly replayWindowMs: number;
  private readonly replayWindowCount: number;
  private readonly messageLimit: number;
  private spool: Spool | undefined;
  private spoolError: Error | undefined;
  private spoolRetryAt = 0;
  private sendCursor: SpoolPosition = { segment: 0, offset: 0, ordinal: 0 };
  /** Replays count up to this ordinal. */
  private replayUntil = 0;
  private fresh: FreshRecord[] = [];
  private freshBytes = 0;
  /** Messages for the collector while the spool is unusable (bounded: MAX_DIRECT_RECORDS). */
  private direct: Buffer[] = [];
  private directBytes = 0;
  private checkpoints: Checkpoint[] = [];
  private readonly acked = new Map<string, number>();
  private readonly appendedUpTo = new Map<string, number>();
  private ackMode = false;
  private lostAt: number | undefined;
  private monitorDisabled: MonitorReason | undefined;
  private lostWhileDisabled = 0;
  private flushImmediate: NodeJS.Immediate | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private lastTrimAt = 0;
  private pumping = false;
  private closing: Promise<void> | undefined;
  private accepting = true;
  private readonly counters = { appended: 0, sent: 0, replayed: 0, lost: 0, sentUnspooled: 0, ignored: 0, disconnects: 0, acks: 0 };

  constructor(options: SyslogTransportOptions) {
    super(options);
    this.options = options;
    this.now = options.now ?? Date.now;
    this.replayWindowMs = options.replayWindowMs ?? 10_000;
    this.replayWindowCount = options.replayWindowCount ?? 10_000;
    this.target = typeof options.collector === 'string' ? parseCollectorUrl(options.collector) : options.collector;
    const maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
    this.messageLimit = this.target.protocol === 'udp' ? Math.min(maxMessageBytes, options.maxDatagramBytes ?? 65507) : maxMessageBytes;
    // winston re-emits a transport's 'error' on the logger; a Writable can still emit one (write after end).
    this.on('error', () => undefined);
    this.connection = new CollectorConnection({
      target: this.target,
      tls: options.tls,
      backoff: options.backoff,
      connectTimeoutMs: options.connectTimeoutMs,
      stallTimeoutMs: options.stallTimeoutMs,
      maxDatagramBytes: options.maxDatagramBytes,
      udpBurst: options.udpBurst,
      udpPaceMs: options.udpPaceMs,
    });
    this.connection.on('up', () => this.connectionUp());
    this.connection.on('down', (error: Error | undefined, wasUp: boolean) => this.connectionDown(error, wasUp));
    this.connection.on('drain', () => this.pump());
    this.connection.on('ack', (instance: string, seq: number) => this.acknowledged(instance, seq));
    this.usableSpool();
    const interval = options.fsyncIntervalMs ?? 100;
    this.maintenanceTimer = setInterval(() => this.maintain(), interval > 0 ? interval : TRIM_EVERY_MS);
    this.maintenanceTimer.unref();
    this.connection.start();
  }

  /** winston calls this for every info; it never throws and never waits for the network. */
  override log(info: AuditInfo, next: () => void): void {
    try {
      this.accept(info);
    } catch (error) {
      this.lose(1, 'spool_error', error);
    }
    next();
  }

  /** Spooled, sent, replayed, lost, and the state of the link and spool. */
  stats(): ShipStats {
    const spool = this.spool;
    return {
      ...this.counters,
      connected: this.connection.isUp,
      connects: this.connection.connects,
      failedAttempts: this.connection.failures,
      ackMode: this.ackMode,
      spoolBytes: spool?.bytes ?? 0,
      spoolRecords: spool?.records ?? 0,
      unsent: spool === undefined ? this.direct.length : Math.max(0, spool.end.ordinal - this.sendCursor.ordinal),
      spoolError: this.spoolError?.message,
      monitorDisabled: this.monitorDisabled !== undefined,
      oversize: this.connection.oversizeDropped,
    };
  }

  /**
   * Stop accepting events, give the collector up to closeTimeoutMs to take what is spooled (and to
   * acknowledge it, if it acknowledges), then close the socket, sync and close the spool, stop every timer.
   * What did not make it stays in the spool for the next process. Never rejects.
   */
  override close(): Promise<void> {
    this.closing ??= this.shutDown().catch(() => undefined);
    return this.closing;
  }

  private accept(info: AuditInfo): void {
    const event = info.event;
    if (!isAuditEvent(event)) {
      this.counters.ignored++;
      return;
    }
    if (!this.accepting) {
      this.lose(1, 'spool_error', new Error('transport closed'));
      return;
    }
    let message: Buffer = Buffer.from(formatRfc5424(event, { facility: this.options.facility, procId: this.options.procId }), 'utf8');
    if (message.length > this.messageLimit) message = this.shrink(event, message.length, this.messageLimit);
    this.store(event.instance, event.seq, message, info.priority === true);
  }

  /** The collector cannot take a message this large: send the event without its detail, and say so. */
  private shrink(event: AuditEvent, bytes: number, limit: number): Buffer {
    const cut = (text: string | undefined): string | undefined => (text === undefined ? undefined : text.slice(0, 512));
    const reduced: AuditEvent = {
      ...event,
      description: cut(event.description) ?? '',
      reason: cut(event.reason),
      where: { ...event.where, url: cut(event.where?.url) },
      who: { ...event.who, userAgent: cut(event.who?.userAgent), forwardedFor: cut(event.who?.forwardedFor) },
      detail: { truncated: `the event took ${bytes} bytes, more than the collector takes (${limit})` },
    };
    if (reduced.reason === undefined) delete reduced.reason;
    return Buffer.from(formatRfc5424(reduced, { facility: this.options.facility, procId: this.options.procId }), 'utf8');
  }

  private store(instance: string, seq: number, message: Buffer, priority: boolean): void {
    const spool = this.usableSpool();
    if (spool !== undefined) {
      const full = (): boolean => this.monitorDisabled === 'spool_full' && !priority && spool.bytes > spool.maxBytes * RESUME_BELOW;
      if (full() && this.now() - this.lastTrimAt >= CHECKPOINT_SPACING_MS) this.trim(false);
      if (full()) {
        this.lose(1, 'spool_full');
        return;
      }
      try {
        let placed;
        try {
          placed = spool.append(instance, seq, message, priority);
        } catch (error) {
          if (!(error instanceof SpoolFullError)) throw error;
          // Make room by giving up the replay window before giving up events.
          this.trim(true);
          placed = spool.append(instance, seq, message, priority);
        }
        this.counters.appended++;
        const known = this.appendedUpTo.get(instance);
        if (known === undefined || seq > known) this.appendedUpTo.set(instance, seq);
        // A literal, not `{ ...placed, message }`: a spread followed by a property gave every record a hidden
        // class of its own, and sendRecords' `record.message` missed V8's inline caches once per event.
        this.fresh.push({ start: placed.start, end: placed.end, message });
        this.freshBytes += message.length;
        if (!priority) this.resume();
        if (this.fresh.length >= MAX_FRESH_RECORDS || this.freshBytes >= MAX_FRESH_BYTES) this.flush();
        else this.scheduleFlush();
        return;
      } catch (error) {
        if (error instanceof SpoolFullError) {
          this.lose(1, 'spool_full', error);
          return;
        }
        this.spoolFailed(error);
      }
    }
    // No spool: best effort, a bounded queue in memory for the collector.
    if (this.direct.length < MAX_DIRECT_RECORDS && this.directBytes + message.length <= MAX_DIRECT_BYTES) {
      this.direct.push(message);
      this.directBytes += message.length;
      this.scheduleFlush();
    } else {
      this.lose(1, 'spool_error', this.spoolError);
    }
  }

  /** The spool, reopened when a disk error's retry delay has passed. */
  private usableSpool(): Spool | undefined {
    if (this.spool !== undefined || !this.accepting || this.now() < this.spoolRetryAt) return this.spool;
    try {
      this.spool = new Spool({
        dir: this.options.spoolDir,
        maxBytes: this.options.spoolMaxBytes,
        segmentBytes: this.options.spoolSegmentBytes,
        now: this.now,
      });
      // What a previous process (or the spool before a disk error) left is resent: at least once.
      this.sendCursor = this.spool.start;
      this.replayUntil = this.spool.end.ordinal;
      this.checkpoints = [];
      this.spoolError = undefined;
    } catch (error) {
      this.spoolError = error instanceof Error ? error : new Error(String(error));
      this.spoolRetryAt = this.now() + (this.options.spoolRetryMs ?? 5000);
      this.lose(0, 'spool_error', error);
    }
    return this.spool;
  }

  /** The disk failed: drop the spool, keep what was in memory as best-effort direct sends. */
  private spoolFailed(error: unknown): void {
    const spool = this.spool;
    this.spool = undefined;
    this.spoolError = error instanceof Error ? error : new Error(String(error));
    this.spoolRetryAt = this.now() + (this.options.spoolRetryMs ?? 5000);
    void spool?.close().catch(() => undefined);
    const unflushed = error instanceof SpoolIoError ? error.lostRecords : 0;
    const rescued = this.fresh.slice(this.fresh.length - unflushed).map((record) => record.message);
    this.fresh = [];
    this.freshBytes = 0;
    let lost = 0;
    for (const message of rescued) {
      if (this.direct.length < MAX_DIRECT_RECORDS && this.directBytes + message.length <= MAX_DIRECT_BYTES) {
        this.direct.push(message);
        this.directBytes += message.length;
      } else {
        lost++;
      }
    }
    this.lose(lost, 'spool_error', error);
    this.scheduleFlush();
  }

  private lose(count: number, reason: MonitorReason, error?: unknown): void {
    this.counters.lost += count;
    if (this.monitorDisabled !== undefined) {
      this.lostWhileDisabled += count;
      return;
    }
    this.monitorDisabled = reason;
    this.lostWhileDisabled = count;
    const change: MonitorChange = { state: 'disabled', reason, lost: count };
    if (error !== undefined) change.error = error instanceof Error ? error.message : String(error);
    // On the next tick: the constructor can lose its spool before anyone listens.
    process.nextTick(() => this.emitSafely('monitor', change));
  }

  private resume(): void {
    if (this.monitorDisabled === undefined) return;
    const change: MonitorChange = { state: 'enabled', reason: this.monitorDisabled, lost: this.lostWhileDisabled };
    this.monitorDisabled = undefined;
    this.lostWhileDisabled = 0;
    process.nextTick(() => this.emitSafely('monitor', change));
  }

  /** A listener that throws must not break the transport. */
  private emitSafely(name: string, ...args: unknown[]): void {
    try {
      this.emit(name, ...args);
    } catch {
      // Listeners are the caller's; the transport goes on.
    }
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== undefined) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  /** Write what was appended to disk (one writev), then send. */
  private flush(): void {
    if (this.spool !== undefined) {
      try {
        this.spool.flush();
      } catch (error) {
        this.spoolFailed(error);
      }
    }
    this.pump();
  }

  /** Send what the collector has not been sent, as far as the socket takes it. Records are on disk first. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      if (this.direct.length > 0 && this.connection.writable) {
        this.connection.send(this.direct);
        this.counters.sentUnspooled += this.direct.length;
        this.direct = [];
        this.directBytes = 0;
      }
      const spool = this.spool;
      if (spool === undefined) return;
      spool.flush();
      let reads = 0;
      while (this.connection.writable && this.sendCursor.ordinal < spool.end.ordinal) {
        const fresh = this.fresh;
        if (fresh.length > 0 && fresh[0].start.ordinal === this.sendCursor.ordinal) {
          // Caught up: the batch just written to disk goes out from memory, no read back.
          this.fresh = [];
          this.freshBytes = 0;
          this.sendRecords(fresh);
          continue;
        }
        this.fresh = [];
        this.freshBytes = 0;
        if (reads++ >= READS_PER_TURN) {
          this.scheduleFlush();
          break;
        }
        const { records, next } = spool.read(this.sendCursor);
        if (records.length === 0) {
          this.sendCursor = next;
          break;
        }
        this.sendRecords(records);
      }
      // Whatever is still unsent is on disk; memory holds nothing more.
      this.fresh = [];
      this.freshBytes = 0;
    } catch (error) {
      this.spoolFailed(error);
    } finally {
      this.pumping = false;
    }
  }

  /** Hand records to the connection, in slices it can take at once (UDP is paced), while it is writable. */
  private sendRecords(records: ReadonlyArray<{ message: Buffer; end: SpoolPosition }>): void {
    const slice = this.connection.batchLimit;
    for (let from = 0; from < records.length && this.connection.writable; from += slice) {
      const batch = records.length <= slice ? records : records.slice(from, from + slice);
      this.checkpoint(this.sendCursor);
      if (this.sendCursor.ordinal < this.replayUntil) {
        this.counters.replayed += Math.min(batch.length, this.replayUntil - this.sendCursor.ordinal);
      }
      this.connection.send(batch.map((record) => record.message));
      this.counters.sent += batch.length;
      this.sendCursor = batch[batch.length - 1].end;
    }
  }

  /** Remember where sending stood when, so a reconnect knows what was sent in the replay window. */
  private checkpoint(position: SpoolPosition): void {
    const now = this.now();
    const points = this.checkpoints;
    const last = points[points.length - 1];
    if (last !== undefined && now - last.at < CHECKPOINT_SPACING_MS && last.position.ordinal <= position.ordinal) return;
    points.push({ at: now, position });
    // Keep one point older than the window: it marks where the window starts.
    while (points.length > MAX_CHECKPOINTS || (points.length > 1 && points[1].at <= now - this.replayWindowMs)) points.shift();
  }

  /** Where to resend from after a connection lost at `lostAt`: never later than the send cursor. */
  private replayStart(lostAt: number): SpoolPosition {
    const spool = this.spool!;
    if (this.ackMode) return this.firstUnacked(spool);
    const windowStart = lostAt - this.replayWindowMs;
    let byAge = this.sendCursor;
    for (let i = this.checkpoints.length - 1; i >= 0; i--) {
      const point = this.checkpoints[i];
      if (point.position.ordinal < byAge.ordinal) byAge = point.position;
      if (point.at <= windowStart) break;
    }
    const countLimit = this.sendCursor.ordinal - this.replayWindowCount;
    if (byAge.ordinal >= countLimit) return byAge;
    return later(byAge, spool.positionOf(countLimit));
  }

  /** The first record the collector has not acknowledged (from the first segment not wholly acknowledged). */
  private firstUnacked(spool: Spool): SpoolPosition {
    const unacked = (instance: string, seq: number): boolean => seq > (this.acked.get(instance) ?? 0);
    for (const segment of spool.segmentInfos) {
      if ([...segment.maxSeq].some(([instance, seq]) => unacked(instance, seq))) {
        const found = spool.find((record) => unacked(record.instance, record.seq), {
          segment: segment.index,
          offset: 0,
          ordinal: segment.firstOrdinal,
        });
        return found.ordinal < this.sendCursor.ordinal ? found : this.sendCursor;
      }
    }
    return this.sendCursor;
  }

  private connectionUp(): void {
    const spool = this.spool;
    if (this.lostAt !== undefined && spool !== undefined) {
      try {
        const start = this.replayStart(this.lostAt);
        if (start.ordinal < this.sendCursor.ordinal) {
          this.replayUntil = Math.max(this.replayUntil, this.sendCursor.ordinal);
          this.sendCursor = start;
        }
      } catch (error) {
        this.spoolFailed(error);
      }
    }
    this.lostAt = undefined;
    this.emitSafely('connect');
    this.pump();
  }

  private connectionDown(error: Error | undefined, wasUp: boolean): void {
    if (wasUp) {
      this.lostAt = this.now();
      this.counters.disconnects++;
    }
    this.emitSafely('disconnect', error);
  }

  private acknowledged(instance: string, seq: number): void {
    this.ackMode = true;
    this.counters.acks++;
    const known = this.acked.get(instance);
    if (known !== undefined && seq <= known) return;
    this.acked.delete(instance);
    this.acked.set(instance, seq);
    if (this.acked.size > MAX_ACK_INSTANCES) this.acked.delete(this.acked.keys().next().value as string);
  }

  private maintain(): void {
    const spool = this.spool;
    if (spool === undefined) {
      // Retry the disk now and then even when no event comes to trigger it.
      if (this.accepting) this.usableSpool();
      return;
    }
    spool.sync().catch((error: unknown) => {
      if (this.spool === spool) this.spoolFailed(error);
    });
    if (this.now() - this.lastTrimAt >= TRIM_EVERY_MS) this.trim(false);
  }

  /**
   * Delete segments nobody needs: acknowledged ones, or (no acknowledgements) sent ones older than the
   * replay window. `force` (spool full) also gives up the window: sent is enough.
   */
  private trim(force: boolean): void {
    const spool = this.spool;
    if (spool === undefined) return;
    this.lastTrimAt = this.now();
    try {
      const sent = this.sendCursor.ordinal;
      if (force) {
        spool.trimBefore(this.sendCursor);
      } else if (this.ackMode) {
        spool.trimWhile(
          (segment) =>
            segment.firstOrdinal + segment.records <= sent &&
            [...segment.maxSeq].every(([instance, seq]) => seq <= (this.acked.get(instance) ?? 0)),
        );
      } else {
        // While disconnected, keep what the reconnect will replay: the window before the loss, not before now.
        const keep = this.replayStartOrdinal(this.lostAt ?? this.now());
        spool.trimWhile((segment) => segment.firstOrdinal + segment.records <= Math.min(keep, sent));
      }
    } catch (error) {
      this.spoolFailed(error);
    }
  }

  /** As replayStart, the ordinal only (no disk read): what a reconnect now would resend from. */
  private replayStartOrdinal(lostAt: number): number {
    const windowStart = lostAt - this.replayWindowMs;
    let byAge = this.sendCursor.ordinal;
    for (let i = this.checkpoints.length - 1; i >= 0; i--) {
      const point = this.checkpoints[i];
      byAge = Math.min(byAge, point.position.ordinal);
      if (point.at <= windowStart) break;
    }
    return Math.max(byAge, this.sendCursor.ordinal - this.replayWindowCount);
  }

  private allDelivered(): boolean {
    const spool = this.spool;
    if (spool === undefined) return this.direct.length === 0 && this.connection.bufferedBytes === 0;
    if (this.sendCursor.ordinal < spool.end.ordinal || this.connection.bufferedBytes > 0) return false;
    if (!this.ackMode) return true;
    for (const [instance, seq] of this.appendedUpTo) if (seq > (this.acked.get(instance) ?? 0)) return false;
    return true;
  }

  private async shutDown(): Promise<void> {
    this.accepting = false;
    clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    this.flush();
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 2000);
    while (Date.now() < deadline && !this.allDelivered()) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.flush();
    }
    clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    await this.connection.stop(Math.max(100, deadline - Date.now()));
    this.trim(false);
    const spool = this.spool;
    this.spool = undefined;
    await spool?.close();
    this.emitSafely('closed');
  }
}
