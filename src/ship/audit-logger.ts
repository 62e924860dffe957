import * as os from 'node:os';
import * as path from 'node:path';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import {
  EventSchemaError,
  EventSource,
  type AuditEmitter,
  type AuditEvent,
  type EventInput,
  type EventSourceOptions,
  type Severity,
} from '../events';
import { DEFAULT_REDACTION, sanitizeEvent, toJsonLine, type RedactionPolicy } from '../sanitize';
import type { CollectorTlsOptions } from './connection';
import { JsonLinesFileTransport, type FileSinkStats } from './file-sink';
import { SyslogTransport, type AuditInfo, type MonitorChange, type ShipStats, type SyslogTransportOptions } from './transport';

export interface AuditLoggerOptions extends EventSourceOptions {
  /** `tcp://host:port`, `tls://host:port` or `udp://host:port`. */
  collector?: string;
  tls?: CollectorTlsOptions;
  /** The spool for the collector; default `<tmpdir>/a09-lab-spool/<app>` (set one that survives reboots). */
  spoolDir?: string;
  /** A JSON-lines file to write events to (the sink for when no collector is configured; both may be set). */
  file?: string;
  /** A `sys_heartbeat` event this often, so a collector can tell that logging stopped; 0 disables. Default 60 s. */
  heartbeatMs?: number;
  /**
   * `sys_startup` when the logger is created and `sys_shutdown` when it is closed, so a collector can tell a
   * clean stop from a crash or a silenced sender (OWASP Logging Vocabulary). Default true.
   */
  lifecycle?: boolean;
  redaction?: RedactionPolicy;
  /** Tuning of the syslog transport (replay window, backoff, spool size, fsync interval, ...). */
  transport?: Partial<Omit<SyslogTransportOptions, 'collector' | 'tls' | 'spoolDir'>>;
  /** More winston transports (an AppSec team's own); they receive `{ level, message, event }`. */
  transports?: TransportStream[];
  /** Where the one-time warnings go (a dropped incomplete event, an internal failure); default stderr. */
  warn?: (line: string) => void;
}

export interface AuditLoggerStats {
  emitted: number;
  /** Incomplete events refused by the schema check (CWE-223): bugs in the caller. */
  schemaErrors: number;
  /** Anything else that went wrong inside emit. */
  failures: number;
  ship?: ShipStats;
  file?: FileSinkStats;
}

export interface AuditLogger extends AuditEmitter {
  readonly source: EventSource;
  /**
   * The winston logger for the AppSec team's own transports (`options.transports`, or
   * `logger.add(transport)` later): every event goes through it to them. The logger's own sinks (the
   * syslog transport and the file) are handed each event directly, not through winston's streams.
   */
  readonly logger: winston.Logger;
  /** Create, sanitize and ship one event; returns it as shipped, or undefined. Never throws. */
  emit(input: EventInput): AuditEvent | undefined;
  stats(): AuditLoggerStats;
  /** Flush (bounded by the transport's close timeout), stop the heartbeat, the sockets and the timers. */
  close(): Promise<void>;
}

/** winston's formatted-message key (triple-beam's MESSAGE), without depending on triple-beam itself. */
const MESSAGE = Symbol.for('message');

/** RFC 5424 severity to winston's syslog level names. */
const SYSLOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'] as const;

const SYSLOG_LEVEL_RANK: Readonly<Record<string, number>> = Object.fromEntries(SYSLOG_LEVELS.map((name, rank) => [name, rank]));

const noop = (): void => undefined;

export function levelOf(severity: Severity): string {
  return SYSLOG_LEVELS[severity] ?? 'notice';
}

/**
 * The winston format for audit infos: nothing is computed per event unless a transport reads
 * info[MESSAGE] (a Console an AppSec user added), which then gets the event as one JSON line.
 */
const auditFormat = winston.format((info) => {
  const event = (info as Partial<AuditInfo>).event;
  if (event !== undefined && !Object.prototype.hasOwnProperty.call(info, MESSAGE)) {
    Object.defineProperty(info, MESSAGE, { get: () => toJsonLine(event), enumerable: true, configurable: true });
  }
  return info;
});

function defaultSpoolDir(app: string): string {
  return path.join(os.tmpdir(), 'a09-lab-spool', app.replace(/[^A-Za-z0-9._-]/g, '_') || 'app');
}

/**
 * The audit logger an application (or the middleware) records events with: an EventSource stamps each
 * event, sanitizeEvent redacts and neutralises it, winston hands it to the syslog transport (durable
 * spool, RFC 5424 to the collector) and/or the JSON-lines file. Logging failures become
 * `sys_monitor_disabled` / `sys_monitor_enabled` events; nothing here throws into a request.
 */
export function createAuditLogger(options: AuditLoggerOptions): AuditLogger {
  if (options.collector === undefined && options.file === undefined) {
    throw new TypeError('createAuditLogger: set `collector` (tcp://, tls://, udp://) or `file` (JSON lines), or both');
  }
  const source = new EventSource(options);
  const policy = options.redaction ?? DEFAULT_REDACTION;
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const counters = { emitted: 0, schemaErrors: 0, failures: 0 };
  /** Our own sinks: called directly, since winston's object-mode streams cost more per event than the sink. */
  const sinks: TransportStream[] = [];
  let ship: SyslogTransport | undefined;
  let file: JsonLinesFileTransport | undefined;
  if (options.collector !== undefined) {
    ship = new SyslogTransport({
      ...options.transport,
      collector: options.collector,
      tls: options.tls,
      spoolDir: options.spoolDir ?? defaultSpoolDir(source.app),
    });
    sinks.push(ship);
  }
  if (options.file !== undefined) {
    file = new JsonLinesFileTransport({ path: options.file });
    sinks.push(file);
  }
  const logger = winston.createLogger({
    levels: winston.config.syslog.levels,
    level: 'debug',
    format: auditFormat(),
    transports: options.transports ?? [],
    exitOnError: false,
  });
  // winston re-emits transport errors on the logger, and an 'error' without a listener throws.
  logger.on('error', () => {
    counters.failures++;
  });

  for (const sink of sinks) {
    sink.on('error', () => {
      counters.failures++;
    });
  }
  /** What winston-transport's stream would do before calling log(): honour `silent` and the transport's `level`. */
  const deliver = (sink: TransportStream, info: AuditInfo): void => {
    if (sink.silent === true) return;
    const threshold = sink.level === undefined ? undefined : SYSLOG_LEVEL_RANK[sink.level];
    if (threshold !== undefined && (SYSLOG_LEVEL_RANK[info.level] ?? 0) > threshold) return;
    sink.log!(info, noop);
  };

  let closed = false;
  let warnedSchema = false;
  let warnedFailure = false;

  function record(input: EventInput, priority: boolean): AuditEvent | undefined {
    if (closed) {
      counters.failures++;
      return undefined;
    }
    try {
      const event = sanitizeEvent(source.create(input), policy);
      const info: AuditInfo = { level: levelOf(event.severity), message: event.description, event };
      if (priority) info.priority = true;
      for (const sink of sinks) deliver(sink, info);
      // Only when someone listens: winston warns about (and buffers) writes to a logger without transports.
      if (logger.transports.length > 0) logger.log(info);
      counters.emitted++;
      return event;
    } catch (error) {
      try {
        if (error instanceof EventSchemaError) {
          counters.schemaErrors++;
          if (!warnedSchema) {
            warnedSchema = true;
            warn(`a09-lab: dropped an incomplete audit event (a bug in the caller; reported once): ${error.message}`);
          }
        } else {
          counters.failures++;
          if (!warnedFailure) {
            warnedFailure = true;
            warn(`a09-lab: audit logging failed (reported once): ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      } catch {
        // Even the warning failed (stderr closed): still never throw into the caller.
      }
      return undefined;
    }
  }

  const onMonitor = (sink: string) => (change: MonitorChange) => {
    const detail: Record<string, string | number> = { sink, reason: change.reason, lost: change.lost };
    if (change.error !== undefined) detail.error = change.error;
    record(
      change.state === 'disabled'
        ? { type: 'sys_monitor_disabled', outcome: 'failure', reason: change.reason, detail }
        : { type: 'sys_monitor_enabled', outcome: 'success', reason: change.reason, detail },
      true,
    );
  };
  ship?.on('monitor', onMonitor('collector'));
  file?.on('monitor', onMonitor('file'));

  const heartbeatMs = options.heartbeatMs ?? 60_000;
  let heartbeat: NodeJS.Timeout | undefined;
  if (heartbeatMs > 0) {
    heartbeat = setInterval(() => {
      const detail: Record<string, number | boolean> = { emitted: counters.emitted, intervalMs: heartbeatMs };
      const shipped = ship?.stats();
      if (shipped !== undefined) {
        Object.assign(detail, { connected: shipped.connected, unsent: shipped.unsent, lost: shipped.lost, spoolBytes: shipped.spoolBytes });
      }
      record({ type: 'sys_heartbeat', outcome: 'info', detail }, false);
    }, heartbeatMs);
    heartbeat.unref();
  }

  const lifecycle = options.lifecycle !== false;
  if (lifecycle) record({ type: 'sys_startup', outcome: 'success', detail: { pid: process.pid, node: process.version } }, true);

  let closing: Promise<void> | undefined;
  return {
    source,
    logger,
    emit: (input) => record(input, false),
    stats: () => {
      const stats: AuditLoggerStats = { ...counters };
      if (ship !== undefined) stats.ship = ship.stats();
      if (file !== undefined) stats.file = file.stats();
      return stats;
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(heartbeat);
        if (lifecycle) record({ type: 'sys_shutdown', outcome: 'success', detail: { emitted: counters.emitted } }, true);
        // Let winston's stream hand over what is in flight before the sinks stop accepting.
        await new Promise((resolve) => setImmediate(resolve));
        closed = true;
        await Promise.all([ship?.close(), file?.close()]);
        logger.close();
      })().catch(() => undefined);
      return closing;
    },
  };
}
