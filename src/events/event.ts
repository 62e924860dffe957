import type { EventType, OwaspLevel, Severity } from './vocabulary';

/** What happened to the attempt the event records. */
export type Outcome = 'success' | 'failure' | 'blocked' | 'allowed' | 'error' | 'info';

export const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'blocked', 'allowed', 'error', 'info'];

/** Values that reach a sink as they are: strings are neutralised and redacted downstream. */
export type DetailValue = string | number | boolean | null;

/** Who: never a raw email, never a password, never a token. */
export interface Who {
  /** The application's user id (Juice Shop: the numeric id, as a string). */
  userId?: string;
  /** HMAC-SHA256 of the normalised email under the configured key, 24 hex digits: links events, hides the address. */
  emailId?: string;
  /** A form an analyst can read without exposing the address: `j**@juice-sh.op`. */
  emailMasked?: string;
  role?: string;
  /** The peer address of the socket: the only source that a client cannot forge. */
  ip?: string;
  /** X-Forwarded-For as the client sent it, kept apart from ip because anyone can write it. */
  forwardedFor?: string;
  userAgent?: string;
}

/** Where: the request the event belongs to. */
export interface Where {
  method?: string;
  /** The route pattern (`/rest/basket/:id`), not the concrete URL. */
  route?: string;
  /** The URL with secrets redacted. */
  url?: string;
  requestId?: string;
  status?: number;
}

export interface AuditEvent {
  type: EventType;
  level: OwaspLevel;
  severity: Severity;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  /** Per-source, strictly increasing from 1: lets a collector drop duplicates and see gaps. */
  seq: number;
  /** The source's identity for this process lifetime (UUID). */
  instance: string;
  app: string;
  host: string;
  outcome: Outcome;
  reason?: string;
  description: string;
  who: Who;
  where: Where;
  detail: Record<string, DetailValue>;
}

/** What a caller gives; the event source fills in when, seq, instance, app, host, level and severity. */
export interface EventInput {
  type: EventType;
  outcome: Outcome;
  reason?: string;
  description?: string;
  /** Override the type's default (e.g. a login bypass by SQL injection is more severe than a probe). */
  level?: OwaspLevel;
  severity?: Severity;
  who?: Who;
  /** A raw email: it is pseudonymised and masked here and never stored as given. */
  email?: string;
  where?: Where;
  detail?: Record<string, DetailValue>;
  /** For tests and replays; defaults to now. */
  at?: Date;
}

/**
 * What middleware is given to record events with. `emit` builds, sanitizes and ships one event, and
 * never throws: a logging failure must not break the request. It returns the event as it was shipped
 * (sanitized), or undefined when the event could not be recorded.
 */
export interface AuditEmitter {
  emit(input: EventInput): AuditEvent | undefined;
}
