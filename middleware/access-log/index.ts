import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { contextSettings, ensureContext, reportEmitError, type ContextSettings, type ContextSettingsOptions, type RequestEventInput } from '../lib/context';
import { redactUrl } from '../lib/redact';

export type AccessLogOptions = ContextSettingsOptions;

/**
 * One `http_request` event per request, at 'finish' (or 'close' when the client went away): it replaces
 * morgan's combined line with redacted URL and referrer, status, duration, user agent and actor.
 * Mounting it more than once (first in the stack and again at morgan's place) records once.
 */
export function accessLog(options: AccessLogOptions, settings: ContextSettings = contextSettings(options)): RequestHandler {
  return function a09AccessLog(req: Request, res: Response, next: NextFunction): void {
    try {
      const context = ensureContext(req, res, settings);
      if (context.attach('access-log')) {
        context.onDone((completion) => {
          const status = completion.status;
          const detail: Record<string, string | number | boolean | null> = {
            durationMs: Math.round(completion.durationMs * 1000) / 1000,
            aborted: completion.aborted,
          };
          const length = res.getHeader('content-length');
          if (length !== undefined) detail.bytes = Number(length);
          const referer = context.headers.referer;
          if (referer !== undefined) detail.referer = redactUrl(referer.slice(0, 1024), context.settings.sensitiveQueryKeys);
          if (context.address.peer !== context.address.ip) detail.peer = context.address.peer;
          if (context.token.state === 'invalid') detail.tokenInvalid = context.token.reason;
          if (context.incident !== undefined) {
            detail.incidentId = context.incident.id;
            detail.errorClass = context.incident.errorClass;
          }
          const outcome = status === undefined || completion.aborted ? 'error' : status >= 500 ? 'error' : status >= 400 ? 'failure' : 'success';
          // An assignment, not a conditional spread: this runs for every request.
          const input: RequestEventInput = { type: 'http_request', outcome, detail };
          if (completion.aborted) input.reason = 'client_aborted';
          context.emit(input);
        }, true);
      }
    } catch (error) {
      reportEmitError(settings, error);
    }
    next();
  };
}
