import crypto from 'node:crypto';

/**
 * Token verification as Juice Shop v20.1.1 really does it: express-jwt 0.1.3 -> jsonwebtoken 0.1.0 ->
 * jws 0.2.x -> jwa 0.0.1. The algorithm is taken from the token's own header, so an unsigned token
 * (`alg: none`, empty signature) verifies, and so does HS256 keyed with the public key PEM
 * (RS256 -> HS256 confusion). Our own re-implementation of those semantics, not their code.
 */

export interface LegacyJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
}

const JWS_SHAPE = /^[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)?$/;
const SUPPORTED = '"HS256", "HS384", "HS512", "RS256", "RS384", "RS512" and "none"';

function base64UrlDecode(part: string): string {
  return Buffer.from(part, 'base64url').toString('utf8');
}

function parseSegment(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(base64UrlDecode(part));
  return typeof value === 'object' && value !== null ? value as Record<string, unknown> : {};
}

/** jws.decode: null when the token does not have the JWS shape. */
export function legacyDecode(token: unknown): LegacyJws | null {
  if (typeof token !== 'string' || !JWS_SHAPE.test(token)) return null;
  const [header, payload, signature] = token.split('.');
  try {
    return { header: parseSegment(header), payload: parseSegment(payload), signature: signature ?? '' };
  } catch {
    return null;
  }
}

/** jws.verify: throws on an unusable token or unknown algorithm, returns whether the signature matches. */
export function legacySignatureValid(token: unknown, publicKeyPem: string): boolean {
  if (typeof token !== 'string') {
    throw new TypeError("Cannot read properties of undefined (reading 'split')");
  }
  const parts = token.split('.');
  const header: unknown = JSON.parse(base64UrlDecode(parts[0] ?? ''));
  if (typeof header !== 'object' || header === null) {
    throw new Error(`Invalid token: no header in signature '${token}'`);
  }
  const alg = String((header as Record<string, unknown>).alg);
  const signature = parts[2] ?? '';
  const securedInput = `${parts[0]}.${parts[1] ?? ''}`;
  const match = /^(HS|RS)(256|384|512)$/.exec(alg);
  if (alg === 'none') return signature === '';
  if (match === null) throw new TypeError(`"${alg}" is not a valid algorithm.\n  Supported algorithms are:\n  ${SUPPORTED}.`);
  const digest = `sha${match[2]}`;
  if (match[1] === 'HS') {
    const expected = crypto.createHmac(digest, publicKeyPem).update(securedInput).digest('base64url');
    return expected === signature;
  }
  try {
    return crypto.createVerify(`RSA-${digest.toUpperCase()}`).update(securedInput)
      .verify(publicKeyPem, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Errors thrown by Node's crypto may come from another realm than this module's Error. */
function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

export type LegacyVerifyResult = { ok: true; payload: Record<string, unknown> } | { ok: false; error: Error };

/** jsonwebtoken 0.1.0 verify: signature, then `exp` if present; no audience/issuer configured in Juice Shop. */
export function legacyVerify(token: unknown, publicKeyPem: string, nowSeconds = Math.floor(Date.now() / 1000)): LegacyVerifyResult {
  let valid: boolean;
  try {
    valid = legacySignatureValid(token, publicKeyPem);
  } catch (error) {
    return { ok: false, error: isErrorLike(error) ? error : new Error(String(error)) };
  }
  if (!valid) return { ok: false, error: new Error('invalid signature') };
  const decoded = legacyDecode(token);
  if (decoded === null) return { ok: false, error: new Error('jwt malformed') };
  const exp = decoded.payload.exp;
  if (typeof exp === 'number' && nowSeconds >= exp) return { ok: false, error: new Error('jwt expired') };
  return { ok: true, payload: decoded.payload };
}
