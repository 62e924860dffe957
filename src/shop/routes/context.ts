import type { Request } from 'express';
import type { ShopAuditLog } from '../audit-log';
import type { ShopDatabase } from '../db';
import type { ShopSecurity } from '../security';

/** What every route factory gets from the shop instance it belongs to. */
export interface RouteContext {
  db: ShopDatabase;
  security: ShopSecurity;
  audit: ShopAuditLog;
  logDir: string;
}

/** The body as jsonParser left it: an object for JSON and forms, the raw text otherwise. */
export function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null ? body as Record<string, unknown> : {};
}

/** What `${value || ''}` gives in Juice Shop's template-literal SQL. */
export function asText(value: unknown): string {
  return value ? String(value) : '';
}
