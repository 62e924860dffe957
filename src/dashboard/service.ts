import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Collector, type BoundAddress, type CollectorAddresses, type CollectorOptions, type ListenAddress } from '../collector';
import {
  createDetector,
  createEscalator,
  defaultDetectionConfig,
  loadDetectionConfig,
  type AlertChange,
  type DetectionConfig,
  type Detector,
  type DetectorOptions,
  type EscalationConfig,
  type Escalator,
} from '../detect';
import { createDashboardApp, type HttpCounters } from './api';
import { AlertStore, type AlertStoreOptions } from './alert-store';
import { TicketBook, TokenCheck, generateToken, tokenProblem } from './auth';
import { ServiceConfigError } from './config';
import { SourceWatch } from './sources';
import { EventStream, type EventStreamOptions } from './stream';

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8514;

/**
 * Something else that wants every alert change (an escalator forwarding to syslog or a webhook).
 * handle() must not block; a throw or a rejected promise is reported through onError and ignored.
 */
export interface AlertSink {
  handle(change: AlertChange): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** The syslog listeners, limits and store as the collector takes them (UDP/TCP 5514, TLS off unless configured). */
export interface CollectorServiceOptions extends Pick<CollectorOptions, 'host' | 'udp' | 'tcp' | 'tls' | 'limits' | 'store'> {
  /** The collector's SQLite file; the alert tables live in it too unless alerts.path says otherwise. */
  dbPath: string;
  /** The HTTP API and dashboard (default 127.0.0.1:8514; port 0 picks a free one). */
  http?: ListenAddress;
  /** Bearer token for the API; generated (and reported as generated) when absent. */
  token?: string;
  /** Detection rules: a validated configuration or the path of a JSON/YAML rules file (default: shipped rules). */
  rules?: DetectionConfig | string;
  detector?: DetectorOptions;
  /** How often the detector's tick() runs: silence, held-back updates, quiet alerts (default 1000 ms). */
  tickMs?: number;
  alerts?: Omit<AlertStoreOptions, 'path' | 'runId' | 'onError'> & { path?: string };
  stream?: EventStreamOptions & {
    /** How often changed source health is pushed to the dashboards (default 2000 ms). */
    sourcesIntervalMs?: number;
    /** Lifetime of a stream ticket (default 30 s). */
    ticketTtlMs?: number;
  };
  /**
   * Escalation (src/detect): alerts forwarded as syslog severity 1 to an upstream receiver and/or posted to a
   * webhook with retries. A bad URL fails the start before anything listens.
   */
  escalation?: EscalationConfig;
  /** How long close() waits for queued escalations to go out (default 2000 ms). */
  escalationFlushMs?: number;
  /** Other consumers of alert changes, called after the change is queued for storage. */
  sinks?: AlertSink[];
  /** Failures the service survives; default a line on stderr. */
  onError?: (error: Error) => void;
}

export interface ServiceAddresses extends CollectorAddresses {
  http: BoundAddress;
}

export interface CollectorService {
  readonly collector: Collector;
  readonly detector: Detector;
  readonly alerts: AlertStore;
  /** Present when escalation was configured. */
  readonly escalator?: Escalator;
  readonly addresses: ServiceAddresses;
  /** The dashboard's URL (`http://127.0.0.1:8514/`). */
  readonly url: string;
  readonly token: string;
  /** The token was generated here (the caller should show it: nobody else knows it). */
  readonly tokenGenerated: boolean;
  /** Alerts an earlier run had left open and this start closed. */
  readonly staleAlertsClosed: number;
  /** Stop the HTTP server, the listeners, the timers; commit and close the stores; close the sinks. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: http.Server, host: string, port: number): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ host: address.address, port: address.port });
    });
  });
}

/**
 * The whole collector service: syslog listeners and store -> detector (fed stored records and gaps) ->
 * alert store, event stream to the dashboards, sinks; the HTTP API and page; a timer ticking the detector.
 */
export async function startCollectorService(options: CollectorServiceOptions): Promise<CollectorService> {
  const onError = options.onError ?? ((error: Error) => process.stderr.write(`collector service: ${error.message}\n`));
  const token = options.token ?? generateToken();
  const problem = tokenProblem(token);
  if (problem !== undefined) throw new Error(problem);
  const rules = typeof options.rules === 'string' ? loadDetectionConfig(options.rules) : (options.rules ?? defaultDetectionConfig());
  const detector = createDetector(rules, options.detector);
  // Built first: a bad URL throws here, before anything listens.
  let escalator: Escalator | undefined;
  try {
    escalator = options.escalation !== undefined ? createEscalator(options.escalation) : undefined;
  } catch (error) {
    throw new ServiceConfigError(`escalation: ${(error as Error).message}`);
  }
  const sinks: AlertSink[] = [...(options.sinks ?? [])];
  if (escalator !== undefined) {
    const flushMs = options.escalationFlushMs ?? 2000;
    const running = escalator;
    sinks.push({
      handle: (change) => running.escalate(change),
      close: async () => {
        await running.flush(flushMs);
        await running.close();
      },
    });
  }
  const stopEscalator = async (): Promise<void> => {
    await escalator?.close(0);
  };
  const startedAt = new Date().toISOString();

  const alerts = new AlertStore({ ...options.alerts, path: options.alerts?.path ?? options.dbPath, onError });
  let staleAlertsClosed: number;
  try {
    staleAlertsClosed = alerts.closeStale();
  } catch (error) {
    alerts.close();
    await stopEscalator();
    throw error;
  }
  const stream = new EventStream(options.stream);
  const watch = new SourceWatch(rules);

  const deliver = (change: AlertChange): void => {
    alerts.record(change);
    watch.onAlertChange(change);
    stream.publish(change.kind, change.alert);
    for (const sink of sinks) {
      try {
        const done = sink.handle(change);
        if (done !== undefined) done.catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))));
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
  // The rules run on each record as it is taken (onIntake: nothing read back from the store, no event kept
  // until its commit; ~3.5 us less CPU per event, ingest +20%). What they raise then is held until that
  // record's batch commits, so an alert never names an event the API cannot show yet; later changes wait
  // behind held ones, so the alert store and the stream see them in order.
  const held: Array<{ id: number; change: AlertChange }> = [];
  let intakeId: number | undefined;
  detector.subscribe((change) => {
    if (intakeId !== undefined) held.push({ id: intakeId, change });
    else if (held.length > 0) held.push({ id: held[held.length - 1].id, change });
    else deliver(change);
  });
  const release = (upTo: number): void => {
    let count = 0;
    while (count < held.length && held[count].id <= upTo) count++;
    if (count === 0) return;
    for (const { change } of held.splice(0, count)) deliver(change);
  };

  let collector: Collector;
  try {
    collector = await Collector.start({
      dbPath: options.dbPath,
      host: options.host,
      udp: options.udp,
      tcp: options.tcp,
      tls: options.tls,
      limits: options.limits,
      store: options.store,
      onError,
    });
  } catch (error) {
    stream.close();
    alerts.close();
    await stopEscalator();
    throw error;
  }
  collector.subscribe({
    onIntake: (record) => {
      watch.onRecord(record);
      intakeId = record.id;
      try {
        detector.onRecord(record);
      } finally {
        intakeId = undefined;
      }
    },
    onGap: (gap) => {
      watch.onGap();
      detector.onGap(gap);
    },
    onGapFilled: () => watch.onGap(),
  });
  collector.store.subscribe({
    onCommit: (commit) => {
      watch.onCommit();
      release(commit.lastId);
    },
  });

  const counters: HttpCounters = { requests: 0, unauthorized: 0, errors: 0 };
  const tickets = new TicketBook({ ttlMs: options.stream?.ticketTtlMs });
  const app = createDashboardApp({
    collector,
    detector,
    alerts,
    stream,
    sources: watch,
    tokens: new TokenCheck(token),
    tickets,
    counters,
    startedAt,
    escalator,
    onError,
  });
  const server = http.createServer(app);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.maxConnections = 256;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  let httpAddress: BoundAddress;
  try {
    httpAddress = await listen(server, options.http?.host ?? DEFAULT_HTTP_HOST, options.http?.port ?? DEFAULT_HTTP_PORT);
  } catch (error) {
    stream.close();
    await collector.close();
    alerts.close();
    await stopEscalator();
    throw error;
  }

  const tickMs = options.tickMs ?? 1000;
  const ticker = setInterval(() => {
    try {
      detector.tick();
    } catch (error) {
      onError(error as Error);
    }
  }, tickMs);
  ticker.unref();
  const sourcesMs = options.stream?.sourcesIntervalMs ?? 2000;
  const sourcesPusher = setInterval(() => {
    if (stream.clientCount === 0 || !watch.dirty) return;
    try {
      stream.publish('sources', watch.view(collector));
    } catch (error) {
      onError(error as Error);
    }
  }, sourcesMs);
  sourcesPusher.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(ticker);
      clearInterval(sourcesPusher);
      stream.close();
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await httpClosed;
      // The collector commits what it holds; those records still reach the detector and the alert store.
      await collector.close();
      // Alerts on records that could not be committed before closing are recorded all the same.
      release(Number.POSITIVE_INFINITY);
      alerts.close();
      for (const sink of sinks) {
        try {
          await sink.close?.();
        } catch (error) {
          onError(error instanceof Error ? error : new Error(String(error)));
        }
      }
    })();
    return closing;
  };

  const addresses: ServiceAddresses = { ...collector.addresses(), http: httpAddress };
  return {
    collector,
    detector,
    alerts,
    escalator,
    addresses,
    url: `http://${urlHost(httpAddress.host)}:${httpAddress.port}/`,
    token,
    tokenGenerated: options.token === undefined,
    staleAlertsClosed,
    close,
  };
}
