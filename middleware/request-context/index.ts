import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  contextSettings,
  ensureContext,
  getContext,
  reportEmitError,
  type ContextSettings,
  type ContextSettingsOptions,
  type RequestContext,
} from '../lib/context';
import { newRequestId } from '../lib/request-id';
import { DETACHED_MAPS_LOSE_TRANSITIONS, toSharedShape } from '../lib/shapes';
import { actorFromPayload, NO_TOKEN, tokenFromRequest, TokenVerifier, type TokenVerdict } from '../lib/token';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The a09 audit context (request id, client address, verified actor), set by request-context. */
      a09?: RequestContext;
    }
  }
}

export interface RequestContextOptions extends ContextSettingsOptions {
  /**
   * Juice Shop's RS256 public key (`encryptionkeys/jwt.pub`), PEM text or KeyObject. Without it no token
   * is verified: no actor is attributed and no authn_token_invalid is recorded.
   */
  jwtPublicKey?: string | Buffer | KeyObject;
  /** A verifier to share (a09 shares one with login-audit); built from jwtPublicKey when absent. */
  verifier?: TokenVerifier;
  /** Seconds of clock skew tolerated on exp; default 0. */
  clockToleranceSeconds?: number;
  /** Header carrying an inbound request id; default `x-request-id`. */
  requestIdHeader?: string;
  /** What an inbound id must look like to be kept; default /^[A-Za-z0-9._-]{8,64}$/. */
  requestIdPattern?: RegExp;
  /** Echo the request id as a response header (changes responses, so off by default). */
  echoRequestId?: boolean;
  /** Record authn_token_invalid for refused tokens; default true. */
  recordInvalidTokens?: boolean;
  /**
   * Give each request and response the shared hidden class Express took from it (middleware/lib/shapes.ts):
   * default on V8 before 13 (Node 20 to 23), where it saves the whole app ~70-90 us of CPU a request;
   * V8 13 and later (Node 24) do not need it and are left alone unless this is true.
   */
  sharedShapes?: boolean;
}

const DEFAULT_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Shared pieces a09 builds once; a standalone requestContext builds its own. */
export interface RequestContextShared {
  settings: ContextSettings;
  verifier?: TokenVerifier;
}

export function requestContextShared(options: RequestContextOptions): RequestContextShared {
  const settings = contextSettings(options);
  const verifier =
    options.verifier ??
    (options.jwtPublicKey !== undefined
      ? new TokenVerifier({
          publicKey: options.jwtPublicKey,
          ...(options.clockToleranceSeconds !== undefined && { clockToleranceSeconds: options.clockToleranceSeconds }),
        })
      : undefined);
  return { settings, ...(verifier !== undefined && { verifier }) };
}

function tokenVerdict(req: Request, headers: IncomingHttpHeaders, verifier: TokenVerifier | undefined): TokenVerdict {
  const found = tokenFromRequest(req, headers);
  if (found === undefined) return NO_TOKEN;
  if (verifier === undefined) {
    const parts = found.token.split('.');
    let claimed;
    try {
      const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
      if (typeof payload === 'object' && payload !== null) claimed = actorFromPayload(payload as Record<string, unknown>);
    } catch {
      claimed = undefined;
    }
    return { state: 'unverified', source: found.source, ...(claimed !== undefined && { claimed }) };
  }
  return verifier.verify(found.token, found.source);
}

/**
 * The first middleware: request id, client address, and the actor from a verified Juice Shop JWT.
 * It runs before any body parser (req.body is undefined here); work that needs the body happens at
 * 'finish' or in the afterJsonParser step.
 */
export function requestContext(options: RequestContextOptions, shared = requestContextShared(options)): RequestHandler {
  const header = (options.requestIdHeader ?? 'x-request-id').toLowerCase();
  const pattern = options.requestIdPattern ?? DEFAULT_REQUEST_ID;
  const echo = options.echoRequestId === true;
  const recordInvalid = options.recordInvalidTokens !== false;
  const { settings, verifier } = shared;
  const shapes = options.sharedShapes ?? DETACHED_MAPS_LOSE_TRANSITIONS;

  return function a09RequestContext(req: Request, res: Response, next: NextFunction): void {
    try {
      if (getContext(req) === undefined) {
        // First, so that every later read of req and res (ours, Express's, the app's) hits V8's caches.
        if (shapes) {
          toSharedShape(req);
          toSharedShape(res);
        }
        const inbound = req.headers[header];
        const requestId = typeof inbound === 'string' && pattern.test(inbound) ? inbound : newRequestId();
        const context = ensureContext(req, res, settings, requestId);
        const verdict = tokenVerdict(req, context.headers, verifier);
        context.token = verdict;
        if (verdict.state === 'valid' && verdict.actor !== undefined) context.actor = verdict.actor;
        if (verdict.state === 'invalid' && recordInvalid) {
          context.onDone((completion) => {
            const accepted = completion.status !== undefined && completion.status < 400;
            context.emit({
              type: 'authn_token_invalid',
              outcome: accepted ? 'allowed' : 'blocked',
              reason: verdict.reason,
              actor: null,
              detail: {
                source: verdict.source,
                alg: verdict.alg ?? null,
                claimedUserId: verdict.claimed?.userId ?? null,
                claimedRole: verdict.claimed?.role ?? null,
                ...(verdict.signedWithPublicKey !== undefined && { signedWithPublicKey: verdict.signedWithPublicKey }),
                appAccepted: accepted,
              },
            });
          });
        }
        if (echo) res.setHeader('X-Request-Id', requestId);
      }
    } catch (error) {
      reportEmitError(settings, error);
    }
    next();
  };
}

/**
 * Registers app.param handlers so the context learns route ids as Express resolved them (a first
 * middleware sees req.params = {}). Call once on the app (Express 4 and 5).
 */
export function captureParams(app: Pick<Application, 'param'>, names: readonly string[] = ['id', 'coupon']): void {
  for (const name of names) {
    app.param(name, (req: Request, _res: Response, next: NextFunction, value: unknown) => {
      const context = getContext(req);
      if (context !== undefined && typeof value === 'string') context.params[name] = value;
      next();
    });
  }
}
