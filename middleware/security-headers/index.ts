import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

export type SecurityHeadersOptions = HelmetOptions;

/**
 * helmet for fixed mode: no X-Powered-By, nosniff, frameguard and helmet's other defaults, with the
 * Content-Security-Policy OFF unless configured: Juice Shop's Angular front end uses inline scripts/styles
 * and breaks under helmet's default CSP (script-src 'self'). Pass `contentSecurityPolicy` to enable one.
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): RequestHandler {
  const handler = helmet({ contentSecurityPolicy: false, ...options });
  return function a09SecurityHeaders(req, res, next): void {
    handler(req, res, next);
  };
}
