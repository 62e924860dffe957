import { IncomingMessage, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AuditEmitter, EventInput, Who, Where } from '../../src/events';
import type { CapturedBody } from './capture';
import { clientAddress, type ClientAddress } from './ip';
import { redactUrl, sensitiveKeySet } from './redact';
import { newRequestId } from './request-id';
import { matchAuditedRoute, routingPath, type AuditedRoute } from './routes';
import { NO_TOKEN, type Actor, type TokenVerdict } from './token';

/** How a request ended, as the done-callbacks see it. */
export interface Completion {
  /** The status sent, when headers went out. */
  status?: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
  durationMs: number;
}

/** What the body looked like right after Juice Shop's jsonParser (before routes could change req.body). */
export interface BodySnapshot {
  /** The raw text (`req.rawBody`, or a text body). */
  raw?: string;
  /** The parsed body when it is an object (a shallow copy). */
  parsed?: Record<string, unknown>;
}

/** An error the error handler saw. */
export interface Incident {
  id: string;
  errorClass: string;
  status: number;
  /** Redacted, capped. */
  message: string;
  /** Redacted, capped; for the log only. */
  stack?: string;
}

/** Settings shared by all middleware of one a09 stack. */
export interface ContextSettings {
  emitter: AuditEmitter;
  trustedProxies: ReadonlySet<string>;
  sensitiveQueryKeys: ReadonlySet<string>;
  /** Called when the emitter throws (it should not); the request is never affected. */
  onEmitError?: (error: unknown) => void;
}

type DoneCallback = (completion: Completion) => void;

/** Middleware that attach to a request once, even when mounted twice. */
export type Feature = 'access-log' | 'login-audit' | 'basket-audit' | 'error-audit';

const FEATURE_BITS: Record<Feature, number> = { 'access-log': 1, 'login-audit': 2, 'basket-audit': 4, 'error-audit': 8 };

/** The typed per-request context attached as `req.a09`. */
export class RequestContext {
  readonly startedAt = process.hrtime.bigint();
  readonly method: string;
  /** The URL as received (before Juice Shop rewrites req.url). */
  readonly rawUrl: string;
  /** The routing path: no query, duplicate slashes collapsed. */
  readonly path: string;
  readonly address: ClientAddress;
  /**
   * `req.headers`, read once: on a request left on the detached map Express gives it (lib/shapes.ts, when
   * shared shapes are off), each property read misses V8's inline caches.
   */
  readonly headers: IncomingHttpHeaders;
  readonly userAgent?: string;
  /** The audited Juice Shop route this request is for, if any. */
  readonly route?: AuditedRoute;
  token: TokenVerdict = NO_TOKEN;
  /** The verified actor: set only when the token verified. */
  actor?: Actor;
  /** Route parameters as Express resolved them (filled by app.param, see `captureParams`). */
  readonly params: Record<string, string> = {};
  /** Set by audits that read the body: the afterJsonParser step then snapshots it. */
  wantsBody = false;
  body?: BodySnapshot;
  incident?: Incident;
  /** The body the response is answered with, when an audit asked for it (capture.ts). */
  capture: CapturedBody | undefined = undefined;
  /** Features already attached to this request, as bits (this runs on every request: no Set). */
  private attachedFeatures = 0;
  private callbacks?: DoneCallback[];
  private lastCallbacks?: DoneCallback[];
  private done = false;
  private redacted?: string;
  /** Express's own route pattern once routed (`req.baseUrl` + `req.route.path`), for unaudited routes. */
  private expressRoute?: string;

  constructor(
    readonly requestId: string,
    readonly settings: ContextSettings,
    private readonly req: ExpressLikeRequest,
    private readonly res: ServerResponse,
  ) {
    this.method = req.method ?? 'GET';
    this.rawUrl = req.originalUrl ?? req.url ?? '/';
    this.path = routingPath(this.rawUrl);
    this.headers = req.headers;
    this.address = clientAddress(req, settings.trustedProxies, this.headers);
    const agent = this.headers['user-agent'];
    if (agent !== undefined && agent !== '') this.userAgent = agent.length > 512 ? agent.slice(0, 512) : agent;
    this.route = matchAuditedRoute(this.method, this.path);
    // Node (>= 14) emits 'close' on every response, after 'finish' when it completed: one listener does.
    res.on('close', () => this.complete(!res.writableFinished));
  }

  /** Marks a feature attached; false when it already was (the caller then does nothing). */
  attach(feature: Feature): boolean {
    const bit = FEATURE_BITS[feature];
    if ((this.attachedFeatures & bit) !== 0) return false;
    this.attachedFeatures |= bit;
    return true;
  }

  /** The URL with secrets redacted (computed once). */
  get url(): string {
    this.redacted ??= redactUrl(this.rawUrl, this.settings.sensitiveQueryKeys);
    return this.redacted;
  }

  /** A route parameter: as Express resolved it, else as our own matcher read it. */
  param(name: string): string | undefined {
    return this.params[name] ?? this.route?.params[name];
  }

  /** Run when the response has finished or the connection closed, once. `last` ones run after the rest. */
  onDone(callback: DoneCallback, last = false): void {
    if (last) (this.lastCallbacks ??= []).push(callback);
    else (this.callbacks ??= []).push(callback);
  }

  /** Names the route of a request the app never routes (a refusal), so its events still say where (CWE-223). */
  nameRoute(pattern: string): void {
    if (this.route === undefined) this.expressRoute ??= pattern;
  }

  /** Emit an event about this request: who/where filled from the context; never throws. */
  emit(input: RequestEventInput): void {
    const actor = input.actor === undefined ? this.actor : input.actor ?? undefined;
    const who: Who = { ip: this.address.ip };
    if (this.address.forwardedFor !== undefined) who.forwardedFor = this.address.forwardedFor;
    if (this.userAgent !== undefined) who.userAgent = this.userAgent;
    if (actor !== undefined) {
      if (actor.userId !== undefined) who.userId = actor.userId;
      if (actor.role !== undefined) who.role = actor.role;
    }
    if (input.who !== undefined) Object.assign(who, input.who);
    const where: Where = { method: this.method, url: this.url, requestId: this.requestId };
    const route = this.route?.pattern ?? this.expressRoute;
    if (route !== undefined) where.route = route;
    if (this.res.headersSent) where.status = this.res.statusCode;
    if (input.where !== undefined) Object.assign(where, input.where);
    // Assignments rather than conditional spreads: each spread of a present field allocates an object (per event).
    const event: EventInput = { type: input.type, outcome: input.outcome, who, where };
    if (input.reason !== undefined) event.reason = input.reason;
    if (input.description !== undefined) event.description = input.description;
    if (input.level !== undefined) event.level = input.level;
    if (input.severity !== undefined) event.severity = input.severity;
    if (input.detail !== undefined) event.detail = input.detail;
    const email = input.email ?? actor?.email;
    if (email !== undefined) event.email = email;
    safeEmit(this.settings, event);
  }

  private complete(aborted: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.route === undefined) {
      const route = this.req.route;
      if (route !== undefined && typeof route.path === 'string') this.expressRoute = (this.req.baseUrl ?? '') + route.path;
    }
    const completion: Completion = { aborted, durationMs: Number(process.hrtime.bigint() - this.startedAt) / 1e6 };
    if (this.res.headersSent) completion.status = this.res.statusCode;
    // Those registered by now run; one added while they run does not (the request is done).
    const first = this.callbacks?.length ?? 0;
    const last = this.lastCallbacks?.length ?? 0;
    this.run(this.callbacks, first, completion);
    this.run(this.lastCallbacks, last, completion);
  }

  private run(callbacks: DoneCallback[] | undefined, count: number, completion: Completion): void {
    if (callbacks === undefined) return;
    for (let i = 0; i < count; i++) {
      try {
        callbacks[i]!(completion);
      } catch (error) {
        // An audit bug must not take the others (or the process) down.
        reportEmitError(this.settings, error);
      }
    }
  }
}

/** An event about a request: who/where default from the context. `actor: null` means "no actor". */
export type RequestEventInput = Omit<EventInput, 'who' | 'where' | 'email' | 'at'> & {
  who?: Who;
  where?: Where;
  actor?: Actor | null;
  email?: string;
};

/** Tell the operator's hook about an internal failure; nothing here may throw into the request. */
export function reportEmitError(settings: ContextSettings, error: unknown): void {
  try {
    settings.onEmitError?.(error);
  } catch {
    // the error reporter failing is not the request's problem either
  }
}

/** Emit and swallow: the AuditEmitter contract says emit never throws; this holds even when one does. */
export function safeEmit(settings: ContextSettings, input: EventInput): void {
  try {
    settings.emitter.emit(input);
  } catch (error) {
    reportEmitError(settings, error);
  }
}

export interface ContextSettingsOptions {
  emitter: AuditEmitter;
  /** Peers whose X-Forwarded-For is believed (exact addresses). Default: none. */
  trustedProxies?: readonly string[];
  /** Query keys redacted in URLs, added to the defaults (change-password's current/new/repeat, ...). */
  sensitiveQueryKeys?: readonly string[];
  onEmitError?: (error: unknown) => void;
}

export function contextSettings(options: ContextSettingsOptions): ContextSettings {
  return {
    emitter: options.emitter,
    trustedProxies: new Set(options.trustedProxies ?? []),
    sensitiveQueryKeys: sensitiveKeySet(options.sensitiveQueryKeys),
    ...(options.onEmitError !== undefined && { onEmitError: options.onEmitError }),
  };
}

/** The parts of an Express request (4 or 5) we read; plain node requests work too. */
export type ExpressLikeRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string; route?: { path?: unknown } };

/**
 * A request's context, in a symbol-keyed property set once per request. Not a WeakMap: every entry of a
 * WeakMap is an ephemeron that each scavenge has to visit, and its young keys take V8's slow write barrier
 * (on the practice shop's failing login, the WeakMaps cost ~20 us of CPU per request across the request's
 * thread and V8's helpers). Not a strong Map emptied at 'close' either (measured: worse than this). A symbol
 * is invisible to for-in, Object.keys and JSON, so the application sees nothing new on its request.
 */
const CONTEXT = Symbol('a09.context');
type WithContext = { [CONTEXT]?: RequestContext };

function contextOf(req: object): RequestContext | undefined {
  return (req as WithContext)[CONTEXT];
}

const exposed = new WeakSet<object>();

/**
 * `req.a09` for the application: a getter defined once on the app's own request prototype (Express gives
 * each app one, `app.request`), never on Node's shared IncomingMessage.prototype; a plain Node request
 * gets an own property instead.
 */
function expose(req: IncomingMessage, context: RequestContext): void {
  const proto: unknown = Object.getPrototypeOf(req);
  if (typeof proto === 'object' && proto !== null && proto !== IncomingMessage.prototype) {
    if (!exposed.has(proto)) {
      exposed.add(proto);
      if (!Object.prototype.hasOwnProperty.call(proto, 'a09')) {
        Object.defineProperty(proto, 'a09', {
          configurable: true,
          get(this: object): RequestContext | undefined {
            return contextOf(this);
          },
        });
      }
    }
    return;
  }
  Object.defineProperty(req, 'a09', { value: context, configurable: true, enumerable: false });
}

export function getContext(req: IncomingMessage): RequestContext | undefined {
  return contextOf(req);
}

/**
 * The request's context, created here when request-context did not run (a middleware used on its own):
 * such a context has a generated request id and no actor.
 */
export function ensureContext(
  req: ExpressLikeRequest,
  res: ServerResponse,
  settings: ContextSettings,
  requestId?: string,
): RequestContext {
  const existing = contextOf(req);
  if (existing !== undefined) return existing;
  const context = new RequestContext(requestId ?? newRequestId(), settings, req, res);
  (req as WithContext)[CONTEXT] = context;
  expose(req, context);
  return context;
}
