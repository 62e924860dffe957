import type { KeyObject } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditEmitter } from '../src/events';
import { accessLog } from './access-log';
import { basketAudit, type BasketAuditOptions } from './basket-audit';
import { errorAudit, wrapErrorHandlerFactory, type ErrorAuditOptions, type ErrorHandlerFactory } from './error-audit';
import { bodySnapshot } from './lib/body';
import type { ContextSettingsOptions } from './lib/context';
import { SessionDirectory } from './lib/sessions';
import type { TokenVerifier } from './lib/token';
import { logGuard, type LogGuardOptions } from './log-guard';
import { loginAudit, type LoginAuditOptions } from './login-audit';
import { captureParams, requestContext, requestContextShared, type RequestContextOptions } from './request-context';
import { securityHeaders, type SecurityHeadersOptions } from './security-headers';

type Shared = keyof ContextSettingsOptions;

export interface A09Options {
  /** Where events go: `createAuditLogger()` from src/ship, or any AuditEmitter. */
  emitter: AuditEmitter;
  /** Juice Shop's RS256 public key (`encryptionkeys/jwt.pub`): without it no actor is attributed. */
  jwtPublicKey?: string | Buffer | KeyObject;
  /** Peers whose X-Forwarded-For is believed (exact addresses); default none. */
  trustedProxies?: readonly string[];
  /** Extra query keys to redact in URLs (the defaults cover change-password and tokens). */
  sensitiveQueryKeys?: readonly string[];
  /** Told when an emitter throws (it should not); requests are never affected. */
  onEmitError?: (error: unknown) => void;
  requestContext?: Omit<RequestContextOptions, Shared | 'jwtPublicKey' | 'verifier'>;
  /** One http_request event per request (replaces morgan); default on. */
  accessLog?: boolean;
  loginAudit?: false | Omit<LoginAuditOptions, Shared | 'verifier' | 'jwtPublicKey' | 'sessions'>;
  basketAudit?: false | Omit<BasketAuditOptions, Shared | 'sessions'>;
  errorAudit?: false | Omit<ErrorAuditOptions, Shared>;
  logGuard?: false | Omit<LogGuardOptions, Shared>;
  /** helmet with CSP off by default (Juice Shop's Angular app breaks under helmet's default CSP). */
  helmet?: false | SecurityHeadersOptions;
}

/** The pieces, by Juice Shop mount point. */
export interface A09Stack {
  /** Mount right after `express()`, before everything: request-context must see every request first. */
  first: RequestHandler[];
  /** Mount right after the JSON body parser (Juice Shop: after `jsonParser`). */
  afterJsonParser: RequestHandler[];
  /** Mount in morgan's place. Recording already starts in `first` (so static files and refusals are logged too); this is idempotent. */
  accessLog: RequestHandler;
  /** Registers app.param('id'/'coupon') so events carry route ids as Express resolved them. */
  param(app: { param: (name: string, handler: (req: Request, res: Response, next: NextFunction, value: unknown) => void) => unknown }): void;
  /** The error handler to mount last; wraps the app's own (errorhandler()) when given. 4 arguments. */
  errorHandler(inner?: ErrorRequestHandler): ErrorRequestHandler;
  /** For a preload replacing `require('errorhandler')`: wraps the module, forwarding its `title`. */
  wrapErrorHandlerFactory<F extends ErrorHandlerFactory>(factory: F): F;
  /** helmet, configured; undefined when turned off. */
  helmet?: RequestHandler;
  /** Everything but the error handler as one middleware, for apps without Juice Shop's mount points. */
  middleware(): RequestHandler;
  /** Shared state: each user's basket as learned from login responses. */
  sessions: SessionDirectory;
  verifier?: TokenVerifier;
}

function passThrough(inner?: ErrorRequestHandler): ErrorRequestHandler {
  return function a09ErrorPassThrough(error: unknown, req: Request, res: Response, next: NextFunction): void {
    if (inner !== undefined) inner(error, req, res, next);
    else next(error);
  };
}

/** Runs handlers in order as one middleware. */
export function chain(handlers: readonly RequestHandler[]): RequestHandler {
  return function a09Chain(req: Request, res: Response, next: NextFunction): void {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null && error !== 'route') {
        next(error);
        return;
      }
      const handler = handlers[index++];
      if (handler === undefined) {
        next();
        return;
      }
      try {
        void handler(req, res, step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

function build(options: A09Options): A09Stack {
  const shared = requestContextShared({
    emitter: options.emitter,
    ...(options.jwtPublicKey !== undefined && { jwtPublicKey: options.jwtPublicKey }),
    ...(options.trustedProxies !== undefined && { trustedProxies: options.trustedProxies }),
    ...(options.sensitiveQueryKeys !== undefined && { sensitiveQueryKeys: options.sensitiveQueryKeys }),
    ...(options.onEmitError !== undefined && { onEmitError: options.onEmitError }),
    ...(options.requestContext?.clockToleranceSeconds !== undefined && { clockToleranceSeconds: options.requestContext.clockToleranceSeconds }),
  });
  const { settings, verifier } = shared;
  const base = { emitter: options.emitter };
  const sessions = new SessionDirectory();
  const first: RequestHandler[] = [requestContext({ ...base, ...options.requestContext }, shared)];
  const access = accessLog(base, settings);
  if (options.accessLog !== false) first.push(access);
  const errors = options.errorAudit === false ? undefined : errorAudit({ ...base, ...options.errorAudit }, settings);
  if (errors !== undefined) first.push(errors.recorder);
  if (options.loginAudit !== false) {
    first.push(loginAudit({ ...base, ...options.loginAudit, sessions, ...(verifier !== undefined && { verifier }) }, settings));
  }
  if (options.basketAudit !== false) first.push(basketAudit({ ...base, ...options.basketAudit, sessions }, settings));
  // Last of `first`: a refused request has its context, access log and error recorder attached already.
  if (options.logGuard !== false) first.push(logGuard({ ...base, ...options.logGuard }, settings));
  const afterJsonParser = [bodySnapshot()];
  const helmetHandler = options.helmet === false ? undefined : securityHeaders(options.helmet ?? {});

  const errorHandler = (inner?: ErrorRequestHandler): ErrorRequestHandler => (errors !== undefined ? errors.wrap(inner) : passThrough(inner));
  return {
    first,
    afterJsonParser,
    accessLog: options.accessLog === false ? (_req, _res, next) => next() : access,
    param: (app) => captureParams(app as Parameters<typeof captureParams>[0]),
    errorHandler,
    wrapErrorHandlerFactory: <F extends ErrorHandlerFactory>(factory: F): F =>
      errors !== undefined ? wrapErrorHandlerFactory(factory, errors) : factory,
    ...(helmetHandler !== undefined && { helmet: helmetHandler }),
    // No body snapshot here: mounted before the app's parser, the audits read the body at 'finish'.
    middleware: () => chain([...first.slice(0, 1), ...(helmetHandler !== undefined ? [helmetHandler] : []), ...first.slice(1)]),
    sessions,
    ...(verifier !== undefined && { verifier }),
  };
}

export interface A09 {
  (options: A09Options): A09Stack;
  /** `a09(options).middleware()`: one middleware for any Express 4/5 app (mount errorHandler separately). */
  middleware(options: A09Options): RequestHandler;
}

/** Compose the a09 middleware; every piece but request-context can be turned off. */
export const a09: A09 = Object.assign((options: A09Options) => build(options), {
  middleware: (options: A09Options) => build(options).middleware(),
});

export default a09;

export { accessLog, type AccessLogOptions } from './access-log';
export { basketAudit, sameBasket, type BasketAuditOptions } from './basket-audit';
export { errorAudit, genericReply, wrapErrorHandlerFactory, type ErrorAudit, type ErrorAuditOptions, type ErrorHandlerFactory } from './error-audit';
export { bodySnapshot } from './lib/body';
export { getContext, RequestContext, type Completion, type Incident } from './lib/context';
export { scanJson, type JsonScan } from './lib/json-scan';
export { SessionDirectory } from './lib/sessions';
export { detectSqli } from './lib/sqli';
export { TokenVerifier, type Actor, type TokenInvalidReason, type TokenVerdict } from './lib/token';
export { logGuard, type LogGuardOptions } from './log-guard';
export { loginAudit, type LoginAuditOptions } from './login-audit';
export { captureParams, requestContext, type RequestContextOptions } from './request-context';
export { securityHeaders, type SecurityHeadersOptions } from './security-headers';
