import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { EventSource, type AuditEmitter, type AuditEvent, type EventInput, type EventType } from '../../src/events';
import { sanitizeEvent } from '../../src/sanitize';

export interface TestKeys {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function makeKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export interface TestUser {
  id: number;
  email: string;
  password: string;
  role: string;
  bid: number;
  totpSecret: string;
}

export const USERS: readonly TestUser[] = [
  { id: 1, email: 'admin@juice-sh.op', password: 'admin123', role: 'admin', bid: 1, totpSecret: '' },
  { id: 2, email: 'jim@juice-sh.op', password: 'ncc-1701', role: 'customer', bid: 2, totpSecret: '' },
  { id: 3, email: 'bender@juice-sh.op', password: 'OhG0dPlease1nsertLiquor!', role: 'customer', bid: 3, totpSecret: '' },
  { id: 10, email: 'wurstbrot@juice-sh.op', password: 'EinBelegtesBrotMitSchinkenSCHINKEN!', role: 'admin', bid: 10, totpSecret: 'IFTXE3SPOEYVURT2MRYGI52TKJ4HC3KH' },
];

export function userByEmail(email: string): TestUser {
  const user = USERS.find((u) => u.email === email);
  if (user === undefined) throw new Error(`no test user ${email}`);
  return user;
}

/** The payload Juice Shop signs: the whole user row, md5 password hash included, plus bid. */
export function payloadFor(user: TestUser, withBid = true): Record<string, unknown> {
  return {
    status: 'success',
    data: { id: user.id, email: user.email, password: md5(user.password), role: user.role, totpSecret: user.totpSecret, deluxeToken: '' },
    ...(withBid && { bid: user.bid }),
  };
}

export function signRs256(payload: object, keys: TestKeys, options: jwt.SignOptions = {}): string {
  return jwt.sign(payload, keys.privateKeyPem, { algorithm: 'RS256', ...options });
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`: no signature at all. */
export function forgeNone(payload: object, alg = 'none'): string {
  return `${b64({ alg, typ: 'JWT' })}.${b64(payload)}.`;
}

/** RS256 -> HS256 confusion: HMAC-SHA256 with the RSA public key's text as the secret. */
export function forgeHs256(payload: object, secret: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...payload, iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A real token whose payload was changed afterwards (the signature no longer matches). */
export function tamper(token: string, payload: object): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64(payload)}.${signature}`;
}

/**
 * A real EventSource behind a recorder, with sanitizeEvent applied once as the shipping logger does.
 * Events the source refuses (EventSchemaError: incomplete, CWE-223) are kept in `refused`: tests assert none.
 */
export class RecordingEmitter implements AuditEmitter {
  readonly source = new EventSource({ app: 'juice-shop', host: 'test-host', hmacKey: 'test-hmac-key' });
  readonly events: AuditEvent[] = [];
  readonly refused: unknown[] = [];
  readonly inputs: EventInput[] = [];

  emit(input: EventInput): AuditEvent | undefined {
    this.inputs.push(input);
    try {
      const event = sanitizeEvent(this.source.create(input));
      this.events.push(event);
      return event;
    } catch (error) {
      this.refused.push(error);
      return undefined;
    }
  }

  ofType(type: EventType): AuditEvent[] {
    return this.events.filter((event) => event.type === type);
  }

  only(type: EventType): AuditEvent {
    const found = this.ofType(type);
    if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length}: ${JSON.stringify(this.events.map((e) => e.type))}`);
    return found[0]!;
  }

  types(): EventType[] {
    return this.events.map((event) => event.type);
  }

  clear(): void {
    this.events.length = 0;
    this.inputs.length = 0;
    this.refused.length = 0;
  }

  /** Resolves once `count` http_request events (one per finished request) were recorded. */
  async requests(count: number): Promise<void> {
    await waitFor(() => this.ofType('http_request').length >= count, `${count} http_request events`);
  }
}

/** Waits for a condition by yielding to the event loop (no timing assertion: the bound is generous). */
export async function waitFor(condition: () => boolean, what: string, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 50 ? 0 : 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}
