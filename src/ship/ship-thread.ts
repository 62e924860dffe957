import type { Worker } from 'node:worker_threads';
import type { AuditEvent } from '../events';
import { sanitizeEvent, type RedactionPolicy } from '../sanitize';
import type { SinkName, SinkOptions, SinkStats } from './sinks';
import type { MonitorChange } from './transport';
import { startModuleWorker } from './worker-thread';

/** Application thread -> shipping thread. */
export type ThreadRequest =
  | {
      type: 'batch';
      id: number;
      events: AuditEvent[];
      /** Indices of priority events (sys_monitor_*). */
      priority: number[];
      /** Indices of events sanitized here already (they could not be copied as they were). */
      sanitized: number[];
    }
  | { type: 'close' };

/** Shipping thread -> application thread. */
export type ThreadReply =
  /** Batches handed to the sinks (and written to the spool); `failed` events of them could not be sanitized. */
  | { type: 'accepted'; ids: number[]; failed: number; stats?: SinkStats }
  | { type: 'stats'; stats: SinkStats }
  | { type: 'monitor'; sink: SinkName; change: MonitorChange }
  | { type: 'warn'; line: string }
  | { type: 'closed'; stats: SinkStats };

export interface ShippingThreadHandlers {
  monitor(sink: SinkName, change: MonitorChange): void;
  /** Events the shipping thread could not sanitize, or that were dropped because it fell too far behind. */
  failed(count: number): void;
  warn(line: string): void;
}

interface Batch {
  id: number;
  events: AuditEvent[];
  priority: number[];
  sanitized: number[];
}

/**
 * A batch goes over when it is this old or this large: each one wakes the shipping thread and costs it a
 * spool write and a confirmation (on the practice shop's failing login, 5 ms instead of 2 took the
 * thread from 47 to 40 us per request), and a process killed outright loses at most this much.
 */
const DEFAULT_BATCH_MS = 5;
const MAX_BATCH_EVENTS = 256;
/** Events handed over and not yet taken by the sinks: beyond this, new ones are dropped (and counted). */
const DEFAULT_MAX_UNCONFIRMED = 100_000;
const MAX_RESTART_DELAY_MS = 5000;
/** close() gives the thread this long beyond the transport's own close timeout, then ends it. */
const CLOSE_GRACE_MS = 5000;

/**
 * The sinks in a worker thread: the application's thread only creates each event and hands it over, in
 * batches every few milliseconds; sanitizing, RFC 5424, the spool and the socket cost the
 * request nothing. Batches stay here until the shipping thread has handed them to its sinks (spool
 * included); a thread that dies is restarted with backoff and given them again (the collector drops
 * duplicates by seq), so only a crash of the whole process loses what was in flight, as it would lose
 * what the spool had not yet written. Like the collector's socket, the thread keeps the process alive
 * until close().
 */
export class ShippingThread {
  private worker: Worker;
  private batch: Batch | undefined;
  private nextId = 1;
  private readonly unconfirmed = new Map<number, Batch>();
  private unconfirmedEvents = 0;
  /** The current thread's counts, and what the threads before it (restarted) had counted. */
  private lastStats: SinkStats = {};
  private carried: SinkStats = {};
  private restartDelayMs = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closing: Promise<SinkStats> | undefined;
  private finish: ((stats: SinkStats) => void) | undefined;
  /** The thread closed its sinks after taking everything: its exit is the end, not a crash. */
  private ended = false;
  /** Events in flight beyond which `post` drops new ones. */
  readonly maxUnconfirmed: number;
  private readonly batchMs: number;
  private readonly closeTimeoutMs: number;
  private batchTimer: NodeJS.Timeout | undefined;
  private exits = 0;

  constructor(
    private readonly options: SinkOptions,
    private readonly handlers: ShippingThreadHandlers,
    limits: { maxUnconfirmedEvents?: number; batchMs?: number; closeTimeoutMs?: number } = {},
  ) {
    this.maxUnconfirmed = limits.maxUnconfirmedEvents ?? DEFAULT_MAX_UNCONFIRMED;
    this.batchMs = limits.batchMs ?? DEFAULT_BATCH_MS;
    this.closeTimeoutMs = limits.closeTimeoutMs ?? (options.transport?.closeTimeoutMs ?? 2000) + CLOSE_GRACE_MS;
    this.worker = this.spawn();
  }

  /** Queue an event for this turn's batch. False when dropped (the shipping thread is too far behind). */
  post(event: AuditEvent, priority: boolean): boolean {
    if (this.unconfirmedEvents >= this.maxUnconfirmed && !priority) return false;
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = { id: this.nextId++, events: [], priority: [], sanitized: [] };
      this.batchTimer = setTimeout(() => this.send(), this.batchMs);
    }
    if (priority) batch.priority.push(batch.events.length);
    batch.events.push(event);
    this.unconfirmedEvents++;
    if (batch.events.length >= MAX_BATCH_EVENTS) this.send();
    return true;
  }

  /** The sinks' counters as the shipping thread last reported them (at most ~250 ms old). */
  stats(): SinkStats {
    return withCarried(this.carried, this.lastStats);
  }

  /** Events handed over and not yet taken by the sinks. */
  get pending(): number {
    return this.unconfirmedEvents;
  }

  /**
   * Hand over what is queued, close the sinks (bounded by the transport's close timeout), end the thread. A
   * thread that does not answer in time (hung, or dying at every start) is ended: what it had not spooled is
   * counted as failed and said on `warn`.
   */
  close(): Promise<SinkStats> {
    this.closing ??= new Promise<SinkStats>((resolve) => {
      const deadline = setTimeout(() => {
        if (this.ended) return;
        this.ended = true;
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        const lost = this.unconfirmedEvents;
        this.handlers.warn(`a09-lab: the shipping thread did not close within ${this.closeTimeoutMs} ms; ended it (${lost} events not spooled)`);
        if (lost > 0) this.handlers.failed(lost);
        this.unconfirmed.clear();
        this.unconfirmedEvents = 0;
        void this.worker.terminate();
        resolve(this.stats());
      }, this.closeTimeoutMs);
      this.finish = (stats) => {
        clearTimeout(deadline);
        resolve(stats);
      };
      this.send();
      // Between a crash and its restart: restart now (respawn asks the new thread to close).
      if (this.restartTimer !== undefined) this.respawn();
      else this.request({ type: 'close' });
    });
    return this.closing;
  }

  private send(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    this.batch = undefined;
    clearTimeout(this.batchTimer);
    this.unconfirmed.set(batch.id, batch);
    if (this.restartTimer !== undefined) return;
    try {
      this.request({ type: 'batch', ...batch });
    } catch (error) {
      // Never into the application: the batch stays unconfirmed and goes again with a restarted thread.
      this.handlers.warn(`a09-lab: could not hand events to the shipping thread: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private request(message: ThreadRequest): void {
    try {
      this.worker.postMessage(message);
    } catch (error) {
      // A value structured cloning refuses (a function, a symbol in detail, from a JavaScript caller):
      // such events are sanitized here and made plain, and the batch goes again.
      if (message.type !== 'batch') throw error;
      for (let i = 0; i < message.events.length; i++) {
        try {
          structuredClone(message.events[i]);
        } catch {
          message.events[i] = plainSanitized(message.events[i], this.options.redaction);
          message.sanitized.push(i);
        }
      }
      this.worker.postMessage(message);
    }
  }

  /** A new thread, given every batch the old one had not taken, and asked to close if we are closing. */
  private respawn(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.worker = this.spawn();
    for (const batch of this.unconfirmed.values()) this.request({ type: 'batch', ...batch });
    if (this.finish !== undefined) this.request({ type: 'close' });
  }

  private spawn(): Worker {
    const worker = startModuleWorker(__filename, 'ship-worker', this.options);
    worker.on('message', (reply: ThreadReply) => this.receive(reply));
    // 'error' is followed by 'exit'; the restart happens there.
    worker.on('error', (error) => this.handlers.warn(`a09-lab: the shipping thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (this.ended) return;
      // A restarted thread counts from zero: keep what this one had counted.
      this.carried = withCarried(this.carried, this.lastStats);
      this.lastStats = {};
      this.restartDelayMs = Math.min(Math.max(this.restartDelayMs * 2, 100), MAX_RESTART_DELAY_MS);
      // The first exit and every tenth after it: a thread dying at every start must not flood stderr.
      if (this.exits++ % 10 === 0) {
        this.handlers.warn(`a09-lab: the shipping thread exited (${code}, ${this.exits} times so far); restarting it in ${this.restartDelayMs} ms`);
      }
      this.restartTimer = setTimeout(() => this.respawn(), this.restartDelayMs);
    });
    return worker;
  }

  private receive(reply: ThreadReply): void {
    switch (reply.type) {
      case 'accepted': {
        for (const id of reply.ids) {
          const batch = this.unconfirmed.get(id);
          if (batch === undefined) continue;
          this.unconfirmed.delete(id);
          this.unconfirmedEvents -= batch.events.length;
        }
        this.restartDelayMs = 0;
        if (reply.stats !== undefined) this.lastStats = reply.stats;
        if (reply.failed > 0) this.handlers.failed(reply.failed);
        return;
      }
      case 'stats':
        this.lastStats = reply.stats;
        return;
      case 'monitor':
        this.handlers.monitor(reply.sink, reply.change);
        return;
      case 'warn':
        this.handlers.warn(reply.line);
        return;
      case 'closed':
        this.ended = true;
        this.unconfirmed.clear();
        this.unconfirmedEvents = 0;
        this.lastStats = reply.stats;
        this.finish?.(this.stats());
        // Its sinks are closed: whatever else it holds (a stray handle) must not keep the process up.
        void this.worker.terminate();
        return;
    }
  }
}

/** The sanitized event as plain JSON data: functions and symbols dropped, bigints as strings. */
function plainSanitized(event: AuditEvent, policy: RedactionPolicy | undefined): AuditEvent {
  const sanitized = sanitizeEvent(event, policy);
  return JSON.parse(JSON.stringify(sanitized, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as AuditEvent;
}

/** Counters that describe a state (of the current thread), not a running count: never summed. */
const STATE_FIELDS = new Set(['connected', 'ackMode', 'spoolBytes', 'spoolRecords', 'unsent', 'spoolError', 'monitorDisabled', 'error']);

function addCounts<T extends object>(carried: T | undefined, current: T | undefined): T | undefined {
  if (carried === undefined) return current;
  if (current === undefined) return carried;
  const out: Record<string, unknown> = { ...(current as Record<string, unknown>) };
  for (const [key, value] of Object.entries(carried)) {
    const now = (current as Record<string, unknown>)[key];
    if (!STATE_FIELDS.has(key) && typeof value === 'number' && typeof now === 'number') out[key] = value + now;
  }
  return out as T;
}

/** The sinks' counts over every thread so far: running counts summed, states as the current thread has them. */
function withCarried(carried: SinkStats, current: SinkStats): SinkStats {
  const out: SinkStats = {};
  const ship = addCounts(carried.ship, current.ship);
  if (ship !== undefined) out.ship = ship;
  const file = addCounts(carried.file, current.file);
  if (file !== undefined) out.file = file;
  return out;
}
