import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { getContext, type BodySnapshot, type RequestContext } from './context';

type RequestWithRawBody = Request & { rawBody?: unknown };

/** The body as Juice Shop's jsonParser leaves it: `req.rawBody` (text) and `req.body` (parsed object). */
export function readBody(req: Request): BodySnapshot {
  const snapshot: BodySnapshot = {};
  const raw = (req as RequestWithRawBody).rawBody;
  if (typeof raw === 'string') snapshot.raw = raw;
  else if (Buffer.isBuffer(raw)) snapshot.raw = raw.toString('utf8');
  const body: unknown = req.body;
  if (typeof body === 'string') snapshot.raw ??= body;
  else if (typeof body === 'object' && body !== null && !Array.isArray(body) && !Buffer.isBuffer(body)) {
    snapshot.parsed = { ...(body as Record<string, unknown>) };
  }
  return snapshot;
}

/** The snapshot taken after the JSON parser, or the body as it is now (when that step is not mounted). */
export function bodyOf(context: RequestContext, req: Request): BodySnapshot {
  return context.body ?? readBody(req);
}

/**
 * Mount right after the body parser (Juice Shop: after `jsonParser`): keeps the body of the audited routes
 * as the client sent it, before routes change req.body. Costs nothing on other routes.
 */
export function bodySnapshot(): RequestHandler {
  return function a09BodySnapshot(req: Request, _res: Response, next: NextFunction): void {
    const context = getContext(req);
    if (context !== undefined && context.wantsBody && context.body === undefined) {
      try {
        const snapshot = readBody(req);
        // Mounted before any parser there is nothing yet: leave it to the finish hook.
        if (snapshot.raw !== undefined || snapshot.parsed !== undefined) context.body = snapshot;
      } catch {
        // a getter on req.body throwing is the app's affair; the finish hook reads it again
      }
    }
    next();
  };
}
