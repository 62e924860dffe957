import { type CollectorTlsOptions, CollectorConnection, parseCollectorUrl } from '../../ship/connection';
import type { AlertChange } from '../alert';
import { type AlertSyslogOptions, formatAlertRfc5424 } from './alert-syslog';
import { IdleWaiters } from './idle';

export interface SyslogForwardOptions extends Omit<AlertSyslogOptions, 'nowMs'> {
  /** `tcp://host:port` (octet counting), `tls://host:port` (RFC 5425) or `udp://host:port`. */
  url: string;
  tls?: CollectorTlsOptions;
  /** Messages held while the upstream is down; the oldest is dropped past it. Default 1000. */
  maxQueue?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  connectTimeoutMs?: number;
}

export interface SyslogForwardStats {
  queued: number;
  sent: number;
  /** Dropped because the queue was full while the upstream was down or slow. */
  dropped: number;
  connects: number;
  failures: number;
  up: boolean;
  lastError?: string;
}

/**
 * Alerts to an upstream syslog receiver (rsyslog, a SIEM) at severity 1, over the ship's self-healing
 * connection (reconnects with capped backoff). Best effort by design: a bounded queue bridges outages,
 * and nothing here ever waits on the network for the detector.
 */
export class SyslogForwarder {
  private readonly connection: CollectorConnection;
  private readonly queue: Buffer[] = [];
  private readonly maxQueue: number;
  private sent = 0;
  private dropped = 0;
  private readonly idleWaiters = new IdleWaiters();

  constructor(
    private readonly options: SyslogForwardOptions,
    private readonly clock: () => number,
  ) {
    this.maxQueue = options.maxQueue ?? 1000;
    this.connection = new CollectorConnection({
      target: parseCollectorUrl(options.url),
      tls: options.tls,
      backoff: options.backoff,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    this.connection.on('up', () => this.pump());
    this.connection.on('drain', () => this.pump());
    this.connection.start();
  }

  forward(change: AlertChange): void {
    const line = formatAlertRfc5424(change, { ...this.options, nowMs: this.clock() });
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(Buffer.from(line, 'utf8'));
    this.pump();
  }

  /** Resolves when the queue is empty (true) or after timeoutMs (false). */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0) return true;
    return this.idleWaiters.wait(timeoutMs);
  }

  async close(graceMs = 1000): Promise<void> {
    await this.connection.stop(graceMs);
  }

  stats(): SyslogForwardStats {
    const stats: SyslogForwardStats = {
      queued: this.queue.length,
      sent: this.sent,
      dropped: this.dropped,
      connects: this.connection.connects,
      failures: this.connection.failures,
      up: this.connection.isUp,
    };
    if (this.connection.lastError !== undefined) stats.lastError = this.connection.lastError.message;
    return stats;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.connection.writable) {
      const batch = this.queue.splice(0, 64);
      this.sent += batch.length;
      if (!this.connection.send(batch)) break;
    }
    if (this.queue.length === 0) {
      this.idleWaiters.wake();
    }
  }
}
