import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { unauthorizedError } from './errors';
import { legacyVerify } from './legacy-jws';
import type { ShopKeyPair } from './types';

/** Juice Shop stores unsalted md5 hex of the password (lib/insecurity.ts `hash`). */
export function md5(data: string): string {
  return crypto.createHash('md5').update(data).digest('hex');
}

export function generateShopKeys(): ShopKeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The token payload Juice Shop v20.1.1 signs at login: `{ data: <user>, bid }` plus `iat`. */
export interface AuthenticatedUser {
  data: { id: number; email: string; password: string; role: string; totpSecret: string };
  bid?: number;
  iat?: number;
}

/** `Authorization: Bearer <token>` -> token (utils.jwtFrom). */
export function jwtFrom(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const parts = header.split(' ');
  if (parts.length === 2 && /^Bearer$/i.test(parts[0])) return parts[1];
  return undefined;
}

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') ? token.substring(1, token.length - 1) : token;
}

function isAuthenticatedUser(value: unknown): value is AuthenticatedUser {
  if (typeof value !== 'object' || value === null) return false;
  const data = (value as { data?: unknown }).data;
  return typeof data === 'object' && data !== null;
}

/**
 * Per-shop token registry and signing (Juice Shop keeps one global `authenticatedUsers` map;
 * we keep one per shop instance so several shops can run in one process).
 */
export class ShopSecurity {
  private readonly tokenMap = new Map<string, AuthenticatedUser>();

  constructor(readonly keys: ShopKeyPair) {}

  get publicKeyPem(): string {
    return this.keys.publicKeyPem;
  }

  /** jsonwebtoken 0.4.0 ignores `expiresIn`, so Juice Shop tokens carry `iat` and no `exp`. */
  authorize(payload: object): string {
    return jwt.sign(payload, this.keys.privateKeyPem, { algorithm: 'RS256' });
  }

  put(token: string, user: AuthenticatedUser): void {
    this.tokenMap.set(token, user);
  }

  get(token: string | undefined): AuthenticatedUser | undefined {
    return token ? this.tokenMap.get(unquote(token)) : undefined;
  }

  from(req: Request): AuthenticatedUser | undefined {
    return this.get(jwtFrom(req));
  }

  /** lib/insecurity.ts `verify`: jws with the header's own algorithm. */
  verify(token: unknown): boolean {
    return typeof token === 'string' && token !== '' && legacyVerify(token, this.keys.publicKeyPem).ok;
  }

  /** express-jwt 0.1.3 `isAuthorized()`: 401 UnauthorizedError through the error handler, else req.user. */
  isAuthorized(): RequestHandler {
    const publicKeyPem = this.keys.publicKeyPem;
    return function isAuthorized(req: Request, _res: Response, next: NextFunction): void {
      const header = req.headers.authorization;
      if (!header) {
        next(unauthorizedError('credentials_required', { message: 'No Authorization header was found' }));
        return;
      }
      const parts = header.split(' ');
      if (parts.length !== 2) {
        next(unauthorizedError('credentials_bad_format', { message: 'Format is Authorization: Bearer [token]' }));
        return;
      }
      const token = /^Bearer$/i.test(parts[0]) ? parts[1] : undefined;
      const result = legacyVerify(token, publicKeyPem);
      if (!result.ok) {
        next(unauthorizedError('invalid_token', result.error));
        return;
      }
      (req as Request & { user?: unknown }).user = result.payload;
      next();
    };
  }

  /** Every verified token the shop sees joins the registry and is echoed as the `token` cookie. */
  updateAuthenticatedUsers(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction): void => {
      const cookieToken = (req.cookies as Record<string, string> | undefined)?.token;
      const token = cookieToken || jwtFrom(req);
      if (token) {
        const result = legacyVerify(token, this.keys.publicKeyPem);
        if (result.ok && this.get(token) === undefined && isAuthenticatedUser(result.payload)) {
          this.put(token, result.payload);
          res.cookie('token', token);
        }
      }
      next();
    };
  }

  /** Puts the token's user id into the body; 401 JSON when the token is not a known one. */
  appendUserId(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction): void => {
      const token = jwtFrom(req);
      const user = token === undefined ? undefined : this.tokenMap.get(token);
      if (user === undefined || typeof req.body !== 'object' || req.body === null) {
        // Juice Shop catches the TypeError and serialises it: an Error has no enumerable properties.
        res.status(401).json({ status: 'error', message: {} });
        return;
      }
      (req.body as Record<string, unknown>).UserId = user.data.id;
      next();
    };
  }
}

/** Express has no cookie parser of its own; Juice Shop mounts cookie-parser. Names and values URL-decoded. */
export function parseCookies(req: Request, _res: Response, next: NextFunction): void {
  const cookies: Record<string, string> = {};
  const header = req.headers.cookie;
  if (typeof header === 'string') {
    for (const pair of header.split(';')) {
      const index = pair.indexOf('=');
      if (index < 0) continue;
      const name = pair.slice(0, index).trim();
      let value = pair.slice(index + 1).trim();
      if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      try {
        value = decodeURIComponent(value);
      } catch {
        // keep the raw value, as the cookie package does
      }
      if (!(name in cookies)) cookies[name] = value;
    }
  }
  req.cookies = cookies;
  next();
}
