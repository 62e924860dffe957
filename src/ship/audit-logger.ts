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
} from '../events';
import { DEFAULT_REDACTION, sanitizeEvent, toJsonLine, type RedactionPolicy } from '../sanitize';
import { parseCollectorUrl, type CollectorTlsOptions } from './connection';
import type { FileSinkStats } from './file-sink';
import { ShippingThread } from './ship-thread';
import { AuditSinks, auditInfo, type SinkName, type SinkOptions, type SinkStats } from './sinks';
import type { AuditInfo, MonitorChange, ShipStats, SyslogTransportOptions } from './transport';

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
  /**
   * Sanitize, format and ship in a worker thread (default true): the application's thread only creates
   * each event (a failing login then costs the request about half as much). `emit` then returns the event as created (its sanitized form is what ships), and `stats()`
   * is at most ~250 ms old until `close()`, which returns with the final counts. Every option but
   * `transports` and `warn` must then be plain data (it is copied to the thread). `false` does it all in
   * the caller's thread: `emit` returns the sanitized event and `stats()` is exact at once.
   */
  thread?: boolean;
  /** With `thread`: events handed over and not yet spooled before new ones are dropped (and reported); default 100,000. */
  maxThreadBacklog?: number;
}

/** The options the shipping thread gets must survive structured cloning (no functions, no sockets). */
function assertCloneable(options: SinkOptions): void {
  try {
    structuredClone(options);
  } catch (error) {
    throw new TypeError(
      `createAuditLogger: with thread: true, collector/tls/file/redaction/transport options must be plain data (${error instanceof Error ? error.message : String(error)})`,
    );
  }
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
  /** Create, sanitize and ship one event; returns it as shipped (with `thread`: as created), or undefined. Never throws. */
  emit(input: EventInput): AuditEvent | undefined;
  stats(): AuditLoggerStats;
  /** Flush (bounded by the transport's close timeout), stop the heartbeat, the sockets and the timers. */
  close(): Promise<void>;
}

/** winston's formatted-message key (triple-beam's MESSAGE), without depending on triple-beam itself. */
const MESSAGE = Symbol.for('message');

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
  const sinkOptions: SinkOptions = {
    spoolDir: options.spoolDir ?? defaultSpoolDir(source.app),
    ...(options.collector !== undefined && { collector: options.collector }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(options.file !== undefined && { file: options.file }),
    ...(options.redaction !== undefined && { redaction: options.redaction }),
    ...(options.transport !== undefined && { transport: options.transport }),
  };
  const onMonitor = (sink: SinkName, change: MonitorChange): void => {
    const detail: Record<string, string | number> = { sink, reason: change.reason, lost: change.lost };
    if (change.error !== undefined) detail.error = change.error;
    record(
      change.state === 'disabled'
        ? { type: 'sys_monitor_disabled', outcome: 'failure', reason: change.reason, detail }
        : { type: 'sys_monitor_enabled', outcome: 'success', reason: change.reason, detail },
      true,
    );
  };
  const safeWarn = (line: string): void => {
    try {
      warn(line);
    } catch {
      // Even the warning failed (stderr closed): still never throw into the caller.
    }
  };
  let warnedFailure = false;
  const reportFailure = (message: string): void => {
    counters.failures++;
    if (!warnedFailure) {
      warnedFailure = true;
      safeWarn(`a09-lab: audit logging failed (reported once): ${message}`);
    }
  };
  let inline: AuditSinks | undefined;
  let thread: ShippingThread | undefined;
  // What the sinks would refuse in their thread is refused here, at once: a bad URL is the caller's error.
  if (sinkOptions.collector !== undefined) parseCollectorUrl(sinkOptions.collector);
  if (options.thread !== false) {
    assertCloneable(sinkOptions);
    try {
      thread = new ShippingThread(
        sinkOptions,
        {
          monitor: onMonitor,
          failed: (count) => {
            counters.failures += count;
          },
          warn: safeWarn,
        },
        { ...(options.maxThreadBacklog !== undefined && { maxUnconfirmedEvents: options.maxThreadBacklog }) },
      );
    } catch (error) {
      // No worker threads here (an embedder that forbids them): the same sinks in this thread.
      safeWarn(`a09-lab: the shipping thread could not start (${error instanceof Error ? error.message : String(error)}); shipping from this thread`);
    }
  }
  if (thread === undefined) inline = new AuditSinks(sinkOptions, onMonitor);
  const sinkStats = (): SinkStats => inline?.stats() ?? thread?.stats() ?? {};

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

  let closed = false;
  let warnedSchema = false;
  /** Events dropped since the shipping thread fell behind (reported as sys_monitor_disabled, then _enabled). */
  let backlogLost = 0;
  let backlogged = false;

  /** A sys_monitor_* event about the shipping thread's backlog, when it starts and stops dropping events. */
  function watchBacklog(dropped: boolean): void {
    if (dropped) {
      counters.failures++;
      backlogLost++;
      if (backlogged) return;
      backlogged = true;
      onMonitor('collector', { state: 'disabled', reason: 'thread_backlog', lost: backlogLost });
    } else if (backlogged && thread !== undefined && thread.pending < thread.maxUnconfirmed / 2) {
      backlogged = false;
      onMonitor('collector', { state: 'enabled', reason: 'thread_backlog', lost: backlogLost });
      backlogLost = 0;
    }
  }

  function record(input: EventInput, priority: boolean): AuditEvent | undefined {
    if (closed) {
      counters.failures++;
      return undefined;
    }
    try {
      const created = source.create(input);
      let event: AuditEvent;
      if (thread !== undefined) {
        if (!thread.post(created, priority)) {
          watchBacklog(true);
          return undefined;
        }
        if (backlogged && !priority) watchBacklog(false);
        event = created;
        // Only when someone listens: the AppSec team's own winston transports get the sanitized event here.
        if (logger.transports.length > 0) logger.log(auditInfo(sanitizeEvent(created, policy), priority));
      } else {
        const info = inline!.deliver(created, priority);
        event = info.event;
        // Only when someone listens: winston warns about (and buffers) writes to a logger without transports.
        if (logger.transports.length > 0) logger.log(info);
      }
      counters.emitted++;
      return event;
    } catch (error) {
      if (error instanceof EventSchemaError) {
        counters.schemaErrors++;
        if (!warnedSchema) {
          warnedSchema = true;
          safeWarn(`a09-lab: dropped an incomplete audit event (a bug in the caller; reported once): ${error.message}`);
        }
      } else {
        reportFailure(error instanceof Error ? error.message : String(error));
      }
      return undefined;
    }
  }

  const heartbeatMs = options.heartbeatMs ?? 60_000;
  let heartbeat: NodeJS.Timeout | undefined;
  if (heartbeatMs > 0) {
    heartbeat = setInterval(() => {
      const detail: Record<string, number | boolean> = { emitted: counters.emitted, intervalMs: heartbeatMs };
      const shipped = sinkStats().ship;
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
    stats: () => ({ ...counters, ...sinkStats() }),
    close: () => {
      closing ??= (async () => {
        clearInterval(heartbeat);
        if (lifecycle) record({ type: 'sys_shutdown', outcome: 'success', detail: { emitted: counters.emitted } }, true);
        // Let winston's stream hand over what is in flight before the sinks stop accepting.
        await new Promise((resolve) => setImmediate(resolve));
        closed = true;
        await (inline?.close() ?? thread?.close());
        logger.close();
      })().catch(() => undefined);
      return closing;
    },
  };
}
