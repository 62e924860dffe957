import type { AuditEvent, Severity } from '../events';
import { DEFAULT_REDACTION, sanitizeEvent, type RedactionPolicy } from '../sanitize';
import type { CollectorTlsOptions } from './connection';
import { JsonLinesFileTransport, type FileSinkStats } from './file-sink';
import { SyslogTransport, type AuditInfo, type MonitorChange, type ShipStats, type SyslogTransportOptions } from './transport';

/** What the logger's own sinks need: plain data, so it can cross to the shipping thread. */
export interface SinkOptions {
  collector?: string;
  tls?: CollectorTlsOptions;
  spoolDir: string;
  file?: string;
  redaction?: RedactionPolicy;
  transport?: Partial<Omit<SyslogTransportOptions, 'collector' | 'tls' | 'spoolDir'>>;
}

export interface SinkStats {
  ship?: ShipStats;
  file?: FileSinkStats;
}

export type SinkName = 'collector' | 'file';

/** RFC 5424 severity to winston's syslog level names. */
const SYSLOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'] as const;

export const SYSLOG_LEVEL_RANK: Readonly<Record<string, number>> = Object.fromEntries(SYSLOG_LEVELS.map((name, rank) => [name, rank]));

export function levelOf(severity: Severity): string {
  return SYSLOG_LEVELS[severity] ?? 'notice';
}

const noop = (): void => undefined;

/** What a sink (or winston) gets for a sanitized event. */
export function auditInfo(sanitized: AuditEvent, priority: boolean): AuditInfo {
  const info: AuditInfo = { level: levelOf(sanitized.severity), message: sanitized.description, event: sanitized };
  if (priority) info.priority = true;
  return info;
}

/**
 * The logger's own sinks (the syslog transport with its spool, the JSON-lines file), each handed the
 * sanitized event directly: winston's object-mode streams cost more per event than the sink. The same
 * code runs in the application's thread or in the shipping thread.
 */
export class AuditSinks {
  private readonly policy: RedactionPolicy;
  private readonly ship: SyslogTransport | undefined;
  private readonly file: JsonLinesFileTransport | undefined;
  private readonly all: Array<SyslogTransport | JsonLinesFileTransport> = [];

  constructor(options: SinkOptions, onMonitor: (sink: SinkName, change: MonitorChange) => void) {
    this.policy = options.redaction ?? DEFAULT_REDACTION;
    if (options.collector !== undefined) {
      this.ship = new SyslogTransport({ ...options.transport, collector: options.collector, tls: options.tls, spoolDir: options.spoolDir });
      this.ship.on('monitor', (change: MonitorChange) => onMonitor('collector', change));
      this.all.push(this.ship);
    }
    if (options.file !== undefined) {
      this.file = new JsonLinesFileTransport({ path: options.file });
      this.file.on('monitor', (change: MonitorChange) => onMonitor('file', change));
      this.all.push(this.file);
    }
  }

  /** Sanitize the event (unless it was already) and hand it to every sink; returns the info the sinks got. Throws only if sanitizing does. */
  deliver(event: AuditEvent, priority: boolean, alreadySanitized = false): AuditInfo {
    const info = auditInfo(alreadySanitized ? event : sanitizeEvent(event, this.policy), priority);
    for (const sink of this.all) {
      // What winston-transport's stream would do before log(): honour `silent` and the sink's `level`.
      if (sink.silent === true) continue;
      const threshold = sink.level === undefined ? undefined : SYSLOG_LEVEL_RANK[sink.level];
      if (threshold !== undefined && (SYSLOG_LEVEL_RANK[info.level] ?? 0) > threshold) continue;
      sink.log(info, noop);
    }
    return info;
  }

  stats(): SinkStats {
    const stats: SinkStats = {};
    if (this.ship !== undefined) stats.ship = this.ship.stats();
    if (this.file !== undefined) stats.file = this.file.stats();
    return stats;
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((sink) => sink.close()));
  }
}
