/**
 * Redaction at the source, for what only the middleware sees whole: the query string (change-password sends
 * three passwords in it) and error messages (a SequelizeDatabaseError quotes the SQL, md5 password hash
 * included). The event pipeline's sanitizer redacts again by value; this keeps secrets out of events even
 * when an emitter does not sanitize.
 */

/** Query keys whose values are secrets, compared lower-cased. */
export const DEFAULT_SENSITIVE_QUERY_KEYS: readonly string[] = [
  'current', 'new', 'repeat', // Juice Shop change-password
  'password', 'passwd', 'pwd', 'pass', 'passwordrepeat',
  'token', 'access_token', 'id_token', 'refresh_token', 'jwt', 'tmptoken',
  'secret', 'client_secret', 'apikey', 'api_key', 'key', 'code', 'otp', 'totp', 'totpsecret',
  'authorization', 'auth', 'session', 'sessionid', 'sid',
  'card', 'cardnum', 'cardnumber', 'cvv', 'cvc', 'answer', 'securityanswer',
];

export const REDACTED = '[REDACTED]';

const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const BEARER_PATTERN = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;
const DIGEST_PATTERN = /\b(?:[a-f0-9]{128}|[a-f0-9]{64}|[a-f0-9]{40}|[a-f0-9]{32})\b/gi;
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export interface TextRedaction {
  /** Also replace email addresses (error messages: an address there is personal data without purpose). */
  emails?: boolean;
}

/** Replace JWTs, bearer credentials, card numbers (Luhn), hex digests (md5/sha*) and optionally emails. */
export function redactSecrets(text: string, options: TextRedaction = {}): string {
  let out = text.replace(JWT_PATTERN, '[REDACTED:jwt]').replace(BEARER_PATTERN, '[REDACTED:bearer]');
  out = out.replace(CARD_CANDIDATE, (match) => {
    const digits = match.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) ? '[REDACTED:card]' : match;
  });
  out = out.replace(DIGEST_PATTERN, '[REDACTED:digest]');
  if (options.emails === true) out = out.replace(EMAIL_PATTERN, '[REDACTED:email]');
  return out;
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The URL with sensitive query values replaced by `[REDACTED]` and secrets redacted by value. The common
 * case (no query, no token in the path) costs two indexOf calls.
 */
export function redactUrl(url: string, sensitiveKeys: ReadonlySet<string>): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const safePath = path.includes('eyJ') ? redactSecrets(path) : path;
  if (queryAt === -1) return safePath;
  const pairs = url.slice(queryAt + 1).split('&');
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] ?? '';
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    if (sensitiveKeys.has(decodeComponent(rawKey).toLowerCase())) {
      pairs[i] = `${rawKey}=${REDACTED}`;
    } else if (eq !== -1) {
      // A value that carries a secret anywhere is dropped whole: re-encoding half of it helps nobody.
      const value = decodeComponent(pair.slice(eq + 1));
      if (redactSecrets(value) !== value) pairs[i] = `${rawKey}=${REDACTED}`;
    }
  }
  return `${safePath}?${pairs.join('&')}`;
}

export function sensitiveKeySet(extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([...DEFAULT_SENSITIVE_QUERY_KEYS, ...extra].map((key) => key.toLowerCase()));
}
