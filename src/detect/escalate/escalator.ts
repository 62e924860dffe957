import type { AlertChange, AlertChangeKind } from '../alert';
import type { Detector } from '../detector';
import { type SyslogForwardOptions, type SyslogForwardStats, SyslogForwarder } from './syslog-forwarder';
import { type WebhookOptions, type WebhookStats, WebhookPoster } from './webhook';

export interface EscalationConfig {
  /** Which changes go out; default ['alert'] (each alert once, when it opens). */
  changes?: AlertChangeKind[];
  /** Only alerts this severe or more (RFC 5424: numerically at most); default 7, all alerts. */
  severityAtMost?: number;
  /** Forward as RFC 5424 severity 1 (alert) to an upstream collector. */
  syslog?: SyslogForwardOptions;
  /** POST JSON to a webhook, with retries. */
  webhook?: WebhookOptions;
}

export interface EscalatorOptions {
  /** Clock for syslog timestamps; default Date.now. */
  now?: () => number;
}

export interface EscalatorStats {
  /** Changes handed to escalate() that passed the filters. */
  escalated: number;
  /** Changes filtered out (kind or severity). */
  skipped: number;
  syslog?: SyslogForwardStats;
  webhook?: WebhookStats;
}

/**
 * Sends alerts on: to an upstream syslog receiver and to a webhook. escalate() only queues: it never
 * throws and never waits on the network, so a dead upstream or webhook never slows detection.
 */
export interface Escalator {
  escalate(change: AlertChange): void;
  /** Escalate a detector's changes from now on; returns the unsubscribe function. */
  attach(detector: Detector): () => void;
  /** Wait until everything queued was sent, delivered or given up (true), or timeoutMs passed (false). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Stop: closes the syslog connection (queued lines get graceMs) and abandons pending webhook posts. */
  close(graceMs?: number): Promise<void>;
  stats(): EscalatorStats;
}

class AlertEscalator implements Escalator {
  private readonly changes: ReadonlySet<AlertChangeKind>;
  private readonly severityAtMost: number;
  private readonly syslog: SyslogForwarder | undefined;
  private readonly webhook: WebhookPoster | undefined;
  private escalated = 0;
  private skipped = 0;

  constructor(config: EscalationConfig, options: EscalatorOptions) {
    this.changes = new Set(config.changes ?? ['alert']);
    this.severityAtMost = config.severityAtMost ?? 7;
    // The webhook is built first: a bad URL throws before any connection is opened.
    this.webhook = config.webhook !== undefined ? new WebhookPoster(config.webhook) : undefined;
    this.syslog = config.syslog !== undefined ? new SyslogForwarder(config.syslog, options.now ?? Date.now) : undefined;
  }

  escalate(change: AlertChange): void {
    if (!this.changes.has(change.kind) || change.alert.severity > this.severityAtMost) {
      this.skipped++;
      return;
    }
    this.escalated++;
    try {
      this.syslog?.forward(change);
    } catch {
      // Formatting cannot fail on a valid alert; whatever happens, detection goes on.
    }
    try {
      this.webhook?.post(change);
    } catch {
      // As above.
    }
  }

  attach(detector: Detector): () => void {
    return detector.subscribe((change) => this.escalate(change));
  }

  async flush(timeoutMs = 10_000): Promise<boolean> {
    const results = await Promise.all([this.syslog?.idle(timeoutMs) ?? true, this.webhook?.idle(timeoutMs) ?? true]);
    return results.every(Boolean);
  }

  async close(graceMs = 1000): Promise<void> {
    this.webhook?.close();
    await this.syslog?.close(graceMs);
  }

  stats(): EscalatorStats {
    const stats: EscalatorStats = { escalated: this.escalated, skipped: this.skipped };
    if (this.syslog !== undefined) stats.syslog = this.syslog.stats();
    if (this.webhook !== undefined) stats.webhook = this.webhook.stats();
    return stats;
  }
}

/** An escalator for the configured outputs (none configured: it only counts). Throws TypeError on a bad URL. */
export function createEscalator(config: EscalationConfig, options: EscalatorOptions = {}): Escalator {
  return new AlertEscalator(config, options);
}
