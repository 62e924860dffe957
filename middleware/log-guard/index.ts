import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { contextSettings, ensureContext, reportEmitError, type ContextSettings, type ContextSettingsOptions } from '../lib/context';
import { resolvedPath } from '../lib/routes';

export interface LogGuardOptions extends ContextSettingsOptions {
  /**
   * Guarded locations: a string is a path prefix matched segment-wise (`/support/logs` guards
   * `/support/logs` and everything below it), a RegExp is tested against the resolved, lower-cased path
   * (e.g. /^\/ftp\/.*\.log$/). Default: ['/support/logs'].
   */
  paths?: ReadonlyArray<string | RegExp>;
  /** Refuse with 404 (fixed mode); false only records what the app served. Default true. */
  block?: boolean;
}

/** Juice Shop serves its own access logs at /support/logs: refuse and record every attempt as sensitive_read. */
export function logGuard(options: LogGuardOptions, settings: ContextSettings = contextSettings(options)): RequestHandler {
  const prefixes: string[] = [];
  const patterns: RegExp[] = [];
  for (const entry of options.paths ?? ['/support/logs']) {
    if (typeof entry === 'string') prefixes.push(resolvedPath(entry));
    else patterns.push(entry);
  }
  const block = options.block !== false;
  /** The guarded location a path falls under, as a route pattern for where.route; undefined when unguarded. */
  const guardedRoute = (path: string): string | undefined => {
    for (const prefix of prefixes) {
      if (path === prefix) return prefix;
      if (path.startsWith(prefix === '/' ? '/' : `${prefix}/`)) return `${prefix === '/' ? '' : prefix}/*`;
    }
    return patterns.find((pattern) => pattern.test(path))?.toString();
  };
  // Cheap pre-filter: the raw path's first segment must be a guarded prefix's (most requests skip decoding).
  const firstSegments = new Set(prefixes.map((prefix) => prefix.split('/')[1] ?? ''));
  const firstSegment = (path: string): string => {
    const end = path.indexOf('/', 1);
    return (end === -1 ? path.slice(1) : path.slice(1, end)).toLowerCase();
  };
  const mustResolve = (rawPath: string): boolean =>
    patterns.length > 0 || rawPath.includes('%') || rawPath.includes('\\') || rawPath.includes('..') || firstSegments.has(firstSegment(rawPath));

  return function a09LogGuard(req: Request, res: Response, next: NextFunction): void {
    let refused = false;
    try {
      const context = ensureContext(req, res, settings);
      const route = mustResolve(context.path) ? guardedRoute(resolvedPath(context.path)) : undefined;
      if (route !== undefined) {
        refused = block;
        if (block) context.nameRoute(route);
        context.onDone((completion) => {
          context.emit({
            type: 'sensitive_read',
            outcome: block ? 'blocked' : completion.status !== undefined && completion.status < 400 ? 'allowed' : 'blocked',
            reason: 'log_file_access',
            detail: { refused: block },
          });
        });
      }
    } catch (error) {
      reportEmitError(settings, error);
    }
    if (!refused) {
      next();
      return;
    }
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.end('Not Found\n');
  };
}
