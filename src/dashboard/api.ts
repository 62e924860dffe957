import express, { type NextFunction, type Request, type Response } from 'express';
import type { Collector } from '../collector';
import type { Detector, Escalator } from '../detect';
import type { AlertStore } from './alert-store';
import { TicketBook, TokenCheck } from './auth';
import { FilterError, alertQueryFrom, apiRecord, eventQueryFrom, nextPage, type QueryParams } from './filters';
import { securityHeaders } from './headers';
import { PUBLIC_FILES } from './public';
import type { SourceWatch } from './sources';
import type { EventStream } from './stream';

export interface HttpCounters {
  requests: number;
  /** Requests refused for a missing or wrong token or ticket. */
  unauthorized: number;
  errors: number;
}

/** What the HTTP API reads from; the service builds it. */
export interface DashboardContext {
  collector: Collector;
  detector: Detector;
  alerts: AlertStore;
  stream: EventStream;
  sources: SourceWatch;
  tokens: TokenCheck;
  tickets: TicketBook;
  counters: HttpCounters;
  startedAt: string;
  /** When escalation is configured: its counters show in /api/stats. */
  escalator?: Escalator;
  /** Alerts sent in the stream's first (snapshot) event (default 200). */
  snapshotAlerts?: number;
  onError: (error: Error) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function params(request: Request): QueryParams {
  return request.query as QueryParams;
}

function unauthorized(context: DashboardContext, response: Response): void {
  context.counters.unauthorized++;
  response.status(401).set('WWW-Authenticate', 'Bearer realm="a09-collector"').json({ error: 'unauthorized' });
}

/**
 * Bearer token on every /api route, compared in constant time. The one exception is the event stream,
 * which also takes a single-use ticket in its URL (EventSource cannot send headers). No token is ever
 * accepted from a URL.
 */
function authenticate(context: DashboardContext) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const presented = TokenCheck.fromHeader(request.headers.authorization);
    if (presented !== undefined && context.tokens.matches(presented)) return next();
    const ticket = request.query.ticket;
    if (request.method === 'GET' && request.path === '/stream' && typeof ticket === 'string' && context.tickets.redeem(ticket)) return next();
    unauthorized(context, response);
  };
}

function alertsRouter(context: DashboardContext): express.Router {
  const router = express.Router();
  router.get('/', (request, response) => {
    const query = alertQueryFrom(params(request));
    const alerts = context.alerts.list(query);
    const full = alerts.length === query.limit && alerts.length > 0;
    response.json({ alerts, next: full ? { before: alerts[alerts.length - 1].rowId } : null });
  });
  router.get('/:id', (request, response) => {
    const id = request.params.id;
    const detail = UUID.test(id) ? context.alerts.get(id) : undefined;
    if (detail === undefined) {
      response.status(404).json({ error: 'no such alert' });
      return;
    }
    const limit = Number(params(request).events ?? 100);
    const wanted = Number.isInteger(limit) && limit >= 0 ? Math.min(limit, 1000) : 100;
    const events = [];
    for (const ref of detail.records.slice(0, wanted)) {
      const record = context.collector.store.event(ref.recordId);
      if (record !== undefined) events.push(apiRecord(record));
    }
    response.json({ ...detail, events });
  });
  return router;
}

function eventsRouter(context: DashboardContext): express.Router {
  const router = express.Router();
  router.get('/', (request, response) => {
    const query = eventQueryFrom(params(request));
    const records = context.collector.store.events(query);
    response.json({ events: records.map(apiRecord), next: nextPage(query, records) });
  });
  router.get('/:id', (request, response) => {
    const id = request.params.id;
    const record = /^\d{1,15}$/.test(id) ? context.collector.store.event(Number(id)) : undefined;
    if (record === undefined) {
      response.status(404).json({ error: 'no such event' });
      return;
    }
    response.json({ event: apiRecord(record) });
  });
  return router;
}

function streamHandler(context: DashboardContext) {
  return (_request: Request, response: Response): void => {
    if (context.stream.full) {
      response.status(503).set('Retry-After', '5').json({ error: 'too many stream clients' });
      return;
    }
    const snapshot = { alerts: context.alerts.list({ limit: context.snapshotAlerts ?? 200 }), sources: context.sources.view(context.collector) };
    context.stream.attach(response, { event: 'snapshot', data: snapshot });
  };
}

function healthDetails(context: DashboardContext): object {
  const detector = context.detector.stats();
  return {
    ...context.collector.health(),
    detector: { records: detector.records, rawRecords: detector.rawRecords, gaps: detector.gaps, alerts: detector.alerts },
    alerts: context.alerts.counts(),
    streamClients: context.stream.clientCount,
  };
}

/** The dashboard's HTTP application: the page (public), /health (public, minimal) and /api (token). */
export function createDashboardApp(context: DashboardContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // < > & as \u escapes in JSON: a response can never be read as markup, whatever sniffs it.
  app.set('json escape', true);
  // Flat parameters only: `a[b]=` stays a string, a repeated one is an array and refused.
  app.set('query parser', 'simple');
  app.use((_request, _response, next) => {
    context.counters.requests++;
    next();
  });
  app.use(securityHeaders);

  // Public: nothing here depends on stored data.
  app.get('/health', (_request, response) => {
    const ok = context.collector.health().ok;
    response.status(ok ? 200 : 503).json({ ok });
  });
  for (const file of PUBLIC_FILES) {
    for (const path of file.paths) {
      app.get(path, (_request, response) => {
        response.type(file.contentType).send(file.body);
      });
    }
  }
  app.get('/favicon.ico', (_request, response) => {
    response.status(204).end();
  });

  const api = express.Router();
  api.use(authenticate(context));
  api.post('/stream-ticket', (_request, response) => {
    response.json({ ticket: context.tickets.issue(), expiresInMs: context.tickets.ttl });
  });
  api.get('/stream', streamHandler(context));
  api.use('/events', eventsRouter(context));
  api.use('/alerts', alertsRouter(context));
  api.get('/sources', (_request, response) => {
    response.json(context.sources.view(context.collector));
  });
  api.get('/gaps', (request, response) => {
    const open = params(request).open;
    const gaps = context.collector.store.gaps({ open: open === 'true' ? true : open === 'false' ? false : undefined, limit: 1000 });
    response.json({ gaps });
  });
  api.get('/health', (_request, response) => {
    response.json(healthDetails(context));
  });
  api.get('/stats', (_request, response) => {
    response.json({
      startedAt: context.startedAt,
      collector: context.collector.stats(),
      detector: context.detector.stats(),
      alerts: context.alerts.counts(),
      ...(context.escalator === undefined ? {} : { escalation: context.escalator.stats() }),
      http: {
        ...context.counters,
        streamClients: context.stream.clientCount,
        streamDropped: context.stream.dropped,
        streamRefused: context.stream.refused,
        ticketsIssued: context.tickets.issued,
        ticketsRedeemed: context.tickets.redeemed,
      },
    });
  });
  api.use((_request, response) => {
    response.status(404).json({ error: 'not found' });
  });
  app.use('/api', api);

  app.use((_request, response) => {
    response.status(404).json({ error: 'not found' });
  });
  // Never a stack trace or an internal message to the client.
  app.use((error: Error, _request: Request, response: Response, _next: NextFunction) => {
    if (error instanceof FilterError) {
      response.status(400).json({ error: error.message });
      return;
    }
    context.counters.errors++;
    context.onError(error);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) response.status(status).json({ error: 'bad request' });
    else response.status(500).json({ error: 'internal error' });
  });
  return app;
}
