import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

export type SecurityHeadersOptions = HelmetOptions;

type HeaderOperation = readonly ['set', string, string | string[]] | readonly ['remove', string];

function containsFunction(value: unknown, depth = 0): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null || depth > 8) return false;
  return Object.values(value).some((item) => containsFunction(item, depth + 1));
}

/**
 * What helmet does to a response, recorded once: with options that hold no functions (CSP nonces are
 * functions of the request), each of its middlewares sets or removes a fixed header and calls next. Undefined
 * when helmet did anything else, so the caller keeps helmet itself.
 */
function recordHeaderOperations(handler: RequestHandler, options: SecurityHeadersOptions): HeaderOperation[] | undefined {
  if (containsFunction(options)) return undefined;
  const operations: HeaderOperation[] = [];
  const response = {
    setHeader(name: string, value: string | string[]): void {
      operations.push(['set', name, Array.isArray(value) ? [...value] : String(value)]);
    },
    removeHeader(name: string): void {
      operations.push(['remove', name]);
    },
  };
  let calls = 0;
  let failed = false;
  try {
    handler({} as never, response as never, (error?: unknown) => {
      calls++;
      if (error !== undefined && error !== null) failed = true;
    });
  } catch {
    return undefined;
  }
  return calls === 1 && !failed ? operations : undefined;
}

/**
 * helmet for fixed mode: no X-Powered-By, nosniff, frameguard and helmet's other defaults, with the
 * Content-Security-Policy OFF unless configured: Juice Shop's Angular front end uses inline scripts/styles
 * and breaks under helmet's default CSP (script-src 'self'). Pass `contentSecurityPolicy` to enable one.
 * helmet's headers are fixed for fixed options: they are worked out once and replayed per response, in
 * helmet's order (a dozen middlewares chained per request cost more than the headers).
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): RequestHandler {
  const merged: SecurityHeadersOptions = { contentSecurityPolicy: false, ...options };
  const handler = helmet(merged);
  const operations = recordHeaderOperations(handler, merged);
  if (operations === undefined) {
    return function a09SecurityHeaders(req, res, next): void {
      handler(req, res, next);
    };
  }
  return function a09SecurityHeaders(_req, res, next): void {
    for (const operation of operations) {
      if (operation[0] === 'set') res.setHeader(operation[1], operation[2]);
      else res.removeHeader(operation[1]);
    }
    next();
  };
}
