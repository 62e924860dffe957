import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  contextSettings,
  ensureContext,
  reportEmitError,
  type ContextSettings,
  type ContextSettingsOptions,
  type Incident,
  type RequestContext,
} from '../lib/context';
import { redactSecrets } from '../lib/redact';

export interface ErrorAuditOptions extends ContextSettingsOptions {
  /**
   * Answer errors with a generic reply (status text and incident id, in HTML/JSON/text by Accept; no
   * stack, SQL or path) instead of the wrapped handler's; default true (fixed mode).
   */
  genericReplies?: boolean;
  /** Record 5xx answers sent without an Error (Juice Shop routes doing res.status(500) themselves); default true. */
  recordBare5xx?: boolean;
  /** Title of the generic HTML page; default the wrapped errorhandler's `title`, else 'Error'. */
  title?: string | (() => string);
  maxMessageLength?: number;
  maxStackLength?: number;
}

export interface ErrorAudit {
  /** Mount first: records sys_error at 'finish' for errors and for bare 5xx answers. */
  recorder: RequestHandler;
  /** The error handler to mount last, wrapping the app's own (errorhandler) or none. Takes 4 arguments. */
  wrap(inner?: ErrorRequestHandler): ErrorRequestHandler;
}

/** errorhandler's own rule: err.status / err.statusCode when set, and never below 400. */
function statusOf(error: unknown, res: Response): number {
  const source = typeof error === 'object' && error !== null ? (error as { status?: unknown; statusCode?: unknown }) : {};
  let status = res.statusCode;
  if (typeof source.statusCode === 'number') status = source.statusCode;
  if (typeof source.status === 'number') status = source.status;
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function errorClassOf(error: unknown): string {
  if (error instanceof Error) return (error.name !== 'Error' ? error.name : error.constructor?.name || 'Error').slice(0, 64);
  if (error === null) return 'null';
  return typeof error === 'object' ? (error.constructor?.name ?? 'Object').slice(0, 64) : typeof error;
}

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[+${text.length - max} chars]` : text;
}

export function incidentFor(error: unknown, status: number, maxMessage = 512, maxStack = 4096): Incident {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  // The SQL in a database error carries the md5 password hash and the submitted email: redact both.
  const incident: Incident = {
    id: randomUUID(),
    errorClass: errorClassOf(error),
    status,
    message: cap(redactSecrets(message, { emails: true }), maxMessage),
  };
  if (stack !== undefined) incident.stack = cap(redactSecrets(stack, { emails: true }), maxStack);
  return incident;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The reply the user gets in fixed mode: nothing but the status and the incident id. */
export function genericReply(req: Request, res: Response, status: number, incidentId: string, title: string): void {
  const statusText = STATUS_CODES[status] ?? 'Error';
  const type = typeof req.accepts === 'function' ? req.accepts(['html', 'json', 'text']) : 'text';
  res.statusCode = status;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  if (type === 'html') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(
      `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
        `<body><h1>${status} ${escapeHtml(statusText)}</h1><p>The request could not be completed. ` +
        `Incident <code>${incidentId}</code>.</p></body></html>\n`,
    );
  } else if (type === 'json') {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: { message: statusText, status, incidentId } }));
  } else {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`${status} ${statusText} (incident ${incidentId})\n`);
  }
}

function attachRecorder(context: RequestContext, recordBare5xx: boolean): void {
  if (!context.attach('error-audit')) return;
  context.onDone((completion) => {
    const incident = context.incident;
    const status = completion.status;
    if (incident !== undefined && incident.status >= 500) {
      const detail: Record<string, string | number | boolean | null> = {
        incidentId: incident.id,
        errorClass: incident.errorClass,
        message: incident.message,
      };
      if (incident.stack !== undefined) detail.stack = incident.stack;
      context.emit({ type: 'sys_error', outcome: 'error', reason: 'unhandled_error', where: { status: incident.status }, detail });
    } else if (incident === undefined && recordBare5xx && status !== undefined && status >= 500) {
      context.emit({
        type: 'sys_error',
        outcome: 'error',
        reason: 'error_status_without_error',
        detail: { incidentId: randomUUID(), errorClass: null },
      });
    }
  });
}

/**
 * sys_error for every error the app's error handler sees (incident id, error class, redacted message and
 * stack: to the log only) and for 5xx answers sent without an Error; in fixed mode the user gets a generic
 * reply with the incident id.
 */
export function errorAudit(options: ErrorAuditOptions, settings: ContextSettings = contextSettings(options)): ErrorAudit {
  const generic = options.genericReplies !== false;
  const recordBare5xx = options.recordBare5xx !== false;
  const maxMessage = options.maxMessageLength ?? 512;
  const maxStack = options.maxStackLength ?? 4096;

  const recorder: RequestHandler = function a09ErrorRecorder(req: Request, res: Response, next: NextFunction): void {
    try {
      attachRecorder(ensureContext(req, res, settings), recordBare5xx);
    } catch (error) {
      reportEmitError(settings, error);
    }
    next();
  };

  const wrap = (inner?: ErrorRequestHandler): ErrorRequestHandler => {
    const titleOf = (): string => {
      if (typeof options.title === 'function') return options.title();
      if (typeof options.title === 'string') return options.title;
      const innerTitle = (inner as { title?: unknown } | undefined)?.title;
      return typeof innerTitle === 'string' ? innerTitle : 'Error';
    };
    // Four parameters: Express recognises error handlers by arity.
    return function a09ErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
      let incident: Incident | undefined;
      try {
        const context = ensureContext(req, res, settings);
        attachRecorder(context, recordBare5xx);
        incident = incidentFor(error, statusOf(error, res), maxMessage, maxStack);
        context.incident = incident;
      } catch (auditError) {
        reportEmitError(settings, auditError);
      }
      if (!generic || incident === undefined) {
        if (inner !== undefined) inner(error, req, res, next);
        else next(error);
        return;
      }
      if (res.headersSent) {
        // Too late for a reply; errorhandler and Express do the same.
        req.socket?.destroy();
        return;
      }
      genericReply(req, res, incident.status, incident.id, titleOf());
    };
  };

  return { recorder, wrap };
}

/** The shape of the `errorhandler` package: a factory with a mutable `title` the app may set. */
export type ErrorHandlerFactory = ((options?: never) => ErrorRequestHandler) & { title?: string };

/**
 * Wrap the `errorhandler` module itself (for a preload that replaces `require('errorhandler')`): each
 * handler it makes is wrapped, and `title` reads and writes through to the original module, because
 * errorhandler reads its own `exports.title` (Juice Shop sets it after requiring).
 */
export function wrapErrorHandlerFactory<F extends ErrorHandlerFactory>(original: F, audit: ErrorAudit): F {
  const wrapped = function (this: unknown, ...args: Parameters<F>): ErrorRequestHandler {
    const handler = Reflect.apply(original, this, args) as ErrorRequestHandler;
    // The generic page reads `inner.title`: let it see the module's current title.
    Object.defineProperty(handler, 'title', { get: () => original.title, configurable: true });
    return audit.wrap(handler);
  };
  Object.defineProperty(wrapped, 'title', {
    get: () => original.title,
    set: (value: string) => {
      original.title = value;
    },
    enumerable: true,
    configurable: true,
  });
  return wrapped as unknown as F;
}
