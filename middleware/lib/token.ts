import { createHmac, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import { LruMap } from './lru';

/** Why a token was refused; the values are what `authn_token_invalid` carries as its reason. */
export type TokenInvalidReason =
  | 'malformed'
  | 'alg_none'
  | 'alg_confusion'
  | 'alg_unexpected'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid';

/** Who a token names: only these fields are ever read from a payload (never the password hash). */
export interface Actor {
  /** The app's user id; absent when only the email is known. */
  userId?: string;
  email?: string;
  role?: string;
  /** Juice Shop's `bid`: the basket the user owns. */
  basketId?: string;
}

export type TokenSource = 'header' | 'cookie';

export type TokenVerdict =
  | { state: 'absent' }
  | { state: 'valid'; source: TokenSource; actor?: Actor }
  | {
      state: 'invalid';
      source: TokenSource;
      reason: TokenInvalidReason;
      /** The header's alg as sent (capped). */
      alg?: string;
      /** Who the token claims to be: what the app believes if it accepts the forgery. */
      claimed?: Actor;
      /** For HS* tokens: whether the HMAC key was the RSA public key (the classic confusion attack). */
      signedWithPublicKey?: boolean;
    }
  /** A token is present but no public key was configured. */
  | { state: 'unverified'; source: TokenSource; claimed?: Actor };

/** The verdict for a request without a token, shared (most requests carry none). */
export const NO_TOKEN: TokenVerdict = Object.freeze({ state: 'absent' });

export interface TokenVerifierOptions {
  /** The RS256 public key (Juice Shop's `encryptionkeys/jwt.pub`), PEM text or a KeyObject. */
  publicKey: string | Buffer | KeyObject;
  /** Seconds of clock skew tolerated on exp/nbf; default 0. */
  clockToleranceSeconds?: number;
  /** Verdicts cached per token string so the RSA check runs once per token; default 2000 entries. */
  cacheSize?: number;
  /** For tests; defaults to Date.now. */
  now?: () => number;
}

const MAX_TOKEN_LENGTH = 16 * 1024;

interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value.length > 256 ? value.slice(0, 256) : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The actor named by a Juice Shop payload: `{ data: { id, email, role }, bid }`, or a 2FA `{ userId }`. */
export function actorFromPayload(payload: Record<string, unknown>): Actor | undefined {
  const data = payload.data;
  const fromData = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
  const userId = scalar(fromData?.id) ?? scalar(payload.userId);
  if (userId === undefined) return undefined;
  const actor: Actor = { userId };
  const email = scalar(fromData?.email);
  if (email !== undefined) actor.email = email;
  const role = scalar(fromData?.role);
  if (role !== undefined) actor.role = role;
  const basketId = scalar(payload.bid);
  if (basketId !== undefined) actor.basketId = basketId;
  return actor;
}

const HMAC_ALGS: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Verifies Juice Shop JWTs as RS256 only and says precisely why a token is refused: `alg: none`, an HS*
 * token (RS256->HS256 confusion, checked against the public key used as HMAC secret), a bad signature,
 * expiry. It identifies the actor for the audit trail; it authorises nothing.
 */
export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly keyTexts: string[];
  private readonly toleranceMs: number;
  private readonly cache: LruMap<string, TokenVerdict & { expiresAt?: number }>;
  private readonly now: () => number;

  constructor(options: TokenVerifierOptions) {
    this.key = typeof options.publicKey === 'object' && !Buffer.isBuffer(options.publicKey) ? options.publicKey : createPublicKey(options.publicKey);
    const asGiven = typeof options.publicKey === 'string' ? options.publicKey : Buffer.isBuffer(options.publicKey) ? options.publicKey.toString('utf8') : undefined;
    const exported = this.key.export({ type: 'spki', format: 'pem' }).toString();
    // The attacker signs with the key file's text; try it as given and with/without its final newline.
    const texts = new Set<string>();
    for (const text of [asGiven, exported]) {
      if (text === undefined) continue;
      texts.add(text);
      texts.add(text.trimEnd());
      texts.add(text.trimEnd() + '\n');
    }
    this.keyTexts = [...texts];
    this.toleranceMs = (options.clockToleranceSeconds ?? 0) * 1000;
    this.cache = new LruMap(options.cacheSize ?? 2000);
    this.now = options.now ?? Date.now;
  }

  verify(token: string, source: TokenSource): TokenVerdict {
    const cached = this.cache.get(token);
    if (cached !== undefined && cached.state !== 'absent') {
      if (cached.state !== 'valid' || cached.expiresAt === undefined || this.now() <= cached.expiresAt + this.toleranceMs) {
        return cached.source === source ? cached : { ...cached, source };
      }
    }
    const verdict = this.check(token, source);
    this.cache.set(token, verdict);
    return verdict;
  }

  private check(token: string, source: TokenSource): TokenVerdict & { expiresAt?: number } {
    if (token.length > MAX_TOKEN_LENGTH) return { state: 'invalid', source, reason: 'malformed' };
    const parts = token.split('.');
    const decoded: Decoded | undefined =
      parts.length === 3 ? (() => {
        const header = decodePart(parts[0] ?? '');
        const payload = decodePart(parts[1] ?? '');
        return header && payload ? { header, payload } : undefined;
      })() : undefined;
    if (decoded === undefined) return { state: 'invalid', source, reason: 'malformed' };
    const claimed = actorFromPayload(decoded.payload);
    const alg = typeof decoded.header.alg === 'string' ? decoded.header.alg.slice(0, 32) : undefined;
    const base = { state: 'invalid' as const, source, ...(alg !== undefined && { alg }), ...(claimed && { claimed }) };
    if (alg === undefined || alg.toLowerCase() === 'none' || parts[2] === '') return { ...base, reason: 'alg_none' };
    const hmacAlg = HMAC_ALGS[alg.toUpperCase()];
    if (hmacAlg !== undefined) {
      return { ...base, reason: 'alg_confusion', signedWithPublicKey: this.signedWithPublicKey(parts, hmacAlg) };
    }
    if (alg !== 'RS256') return { ...base, reason: 'alg_unexpected' };
    try {
      const payload = jwt.verify(token, this.key, {
        algorithms: ['RS256'],
        clockTolerance: this.toleranceMs / 1000,
        clockTimestamp: Math.floor(this.now() / 1000),
      });
      const exp = typeof payload === 'object' && typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
      return { state: 'valid', source, ...(claimed && { actor: claimed }), ...(exp !== undefined && { expiresAt: exp }) };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TokenExpiredError') return { ...base, reason: 'expired' };
      if (name === 'NotBeforeError') return { ...base, reason: 'not_yet_valid' };
      if (error instanceof Error && error.message === 'invalid signature') return { ...base, reason: 'bad_signature' };
      return { ...base, reason: 'malformed' };
    }
  }

  private signedWithPublicKey(parts: string[], hmacAlg: string): boolean {
    const signature = Buffer.from(parts[2] ?? '', 'base64url');
    const signingInput = `${parts[0]}.${parts[1]}`;
    return this.keyTexts.some((secret) => {
      const expected = createHmac(hmacAlg, secret).update(signingInput).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    });
  }
}

/** The bearer token of a request as Juice Shop reads it: `Authorization: Bearer x`, else the `token` cookie. */
export function tokenFromRequest(req: IncomingMessage, headers = req.headers): { token: string; source: TokenSource } | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const space = authorization.indexOf(' ');
    if (space > 0 && authorization.slice(0, space).toLowerCase() === 'bearer') {
      const token = authorization.slice(space + 1).trim();
      if (token !== '') return { token, source: 'header' };
    }
  }
  const cookie = headers.cookie;
  if (cookie !== undefined && cookie.includes('token=')) {
    for (const pair of cookie.split(';')) {
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim() === 'token') {
        const value = pair.slice(eq + 1).trim();
        if (value !== '') return { token: value, source: 'cookie' };
      }
    }
  }
  return undefined;
}

/** Decodes a payload without verifying: only for tokens our own app just issued (the login response). */
export function unverifiedActor(token: string): Actor | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const payload = decodePart(parts[1] ?? '');
  return payload ? actorFromPayload(payload) : undefined;
}
