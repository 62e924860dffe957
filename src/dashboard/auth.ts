import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bearer tokens shorter than this are refused: the token is the only thing between the logs and a reader. */
export const MIN_TOKEN_LENGTH = 16;
const TOKEN_SYNTAX = /^[\x21-\x7e]+$/;

/** 256 random bits, URL-safe base64 (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Why a configured token cannot be used, or undefined when it can. */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `the API token must be at least ${MIN_TOKEN_LENGTH} characters`;
  if (token.length > 512) return 'the API token must be at most 512 characters';
  if (!TOKEN_SYNTAX.test(token)) return 'the API token must be printable ASCII without spaces';
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Checks presented secrets against the token in constant time: both sides are hashed first, so neither
 * the content nor the length of the token shows in how long a comparison takes.
 */
export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.expected);
  }

  /** The token from an `Authorization: Bearer <token>` header value, if that is what it is. */
  static fromHeader(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    const match = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header);
    return match === null ? undefined : match[1];
  }
}

export interface TicketBookOptions {
  /** How long a ticket can be used (default 30 s). */
  ttlMs?: number;
  /** Tickets outstanding at once; the oldest is dropped past it (default 256). */
  maxTickets?: number;
  now?: () => number;
}

/**
 * Short-lived, single-use tickets for the event stream. EventSource cannot send an Authorization header,
 * so the page trades its bearer token for a ticket (POST, header) and puts only the ticket in the stream
 * URL: a URL that ends up in a log or a history is worthless seconds later and after its one use.
 * Tickets are kept as SHA-256 digests, so the map holds nothing that can be replayed.
 */
export class TicketBook {
  private readonly ttlMs: number;
  private readonly maxTickets: number;
  private readonly now: () => number;
  /** digest (hex) -> expiry (ms), in issue order. */
  private readonly tickets = new Map<string, number>();
  issued = 0;
  redeemed = 0;

  constructor(options: TicketBookOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxTickets = options.maxTickets ?? 256;
    this.now = options.now ?? Date.now;
  }

  get ttl(): number {
    return this.ttlMs;
  }

  issue(): string {
    this.sweep();
    if (this.tickets.size >= this.maxTickets) {
      const oldest = this.tickets.keys().next().value as string;
      this.tickets.delete(oldest);
    }
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(digest(ticket).toString('hex'), this.now() + this.ttlMs);
    this.issued++;
    return ticket;
  }

  /** True once for a ticket issued less than ttl ago; false ever after. */
  redeem(ticket: string): boolean {
    if (ticket.length === 0 || ticket.length > 128) return false;
    const key = digest(ticket).toString('hex');
    const expiry = this.tickets.get(key);
    if (expiry === undefined) return false;
    this.tickets.delete(key);
    if (this.now() > expiry) return false;
    this.redeemed++;
    return true;
  }

  get outstanding(): number {
    return this.tickets.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, expiry] of this.tickets) {
      if (expiry >= now) break;
      this.tickets.delete(key);
    }
  }
}
