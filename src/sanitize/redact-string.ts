/**
 * CWE-532 by value: secrets recognised by their shape anywhere in free text (bodies, headers, URLs, error
 * messages, stack traces, SQL). Every scanner is linear in the input: each regex either has bounded
 * repetition or matches maximal runs that cannot fail after starting; the rest is indexOf and loops that
 * never revisit a character. Each returns its input unchanged (same string) when it finds nothing.
 */
import { redactCards } from './cards';
import { DEFAULT_REDACTION, RedactionPolicy, isSensitiveKey } from './policy';

export const JWT_LABEL = '[REDACTED:jwt]';
export const BEARER_LABEL = '[REDACTED:bearer]';
export const BASIC_LABEL = '[REDACTED:basic]';
export const DIGEST_LABEL = '[REDACTED:digest]';
export const PRIVATE_KEY_LABEL = '[REDACTED:private-key]';

const REDACTED_PREFIX = '[REDACTED';

function isBase64UrlChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 95
  );
}

/** End (exclusive) of the base64url segment starting at `index`. */
function segmentEnd(value: string, index: number): number {
  let cursor = index;
  while (cursor < value.length && isBase64UrlChar(value.charCodeAt(cursor))) cursor += 1;
  return cursor;
}

/**
 * JWTs (JWS compact form): `eyJ...` header (base64url of `{"`), a non-empty payload, a signature that may
 * be empty (`alg: none`). Found wherever they stand, glued to other text or not.
 */
export function redactJwts(value: string): string {
  let search = value.indexOf('eyJ');
  if (search < 0) return value;
  let out = '';
  let flushedTo = 0;
  while (search >= 0) {
    const headerEnd = segmentEnd(value, search + 3);
    let next = headerEnd;
    if (headerEnd > search + 3 && value.charCodeAt(headerEnd) === 46) {
      const payloadEnd = segmentEnd(value, headerEnd + 1);
      if (payloadEnd > headerEnd + 1 && value.charCodeAt(payloadEnd) === 46) {
        const signatureEnd = segmentEnd(value, payloadEnd + 1);
        out += value.slice(flushedTo, search) + JWT_LABEL;
        flushedTo = signatureEnd;
        next = signatureEnd;
      } else {
        next = payloadEnd;
      }
    }
    // Any later `eyJ` inside the segments just scanned would end where this one failed: skip them.
    search = value.indexOf('eyJ', Math.max(next, search + 3));
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

/** RFC 6750 b64token after the scheme; `\s+` and the token class are disjoint, so no backtracking blow-up. */
const BEARER = /\bbearer\s+(?!\[REDACTED)([A-Za-z0-9\-._~+/]+=*)/gi;

/** A token, not the next word of a sentence ("the bearer of bad news"): 8+ characters, not all small letters. */
function looksLikeBearerToken(token: string): boolean {
  return token.length >= 8 && !/^[a-z]+$/.test(token);
}
const BASIC = /\bbasic\s+([A-Za-z0-9+/]+=*)/gi;
const MAYBE_SCHEME = /bearer|basic/i;

function looksLikeBasicCredentials(encoded: string): boolean {
  if (encoded.length < 4 || encoded.length % 4 !== 0) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

/** `Bearer <token>` and `Basic <base64 user:password>` (the latter only when it decodes to `x:y`). */
export function redactAuthSchemes(value: string, policy: RedactionPolicy): string {
  if (!MAYBE_SCHEME.test(value)) return value;
  let out = value;
  if (policy.values.bearer) {
    out = out.replace(BEARER, (whole: string, token: string) => (looksLikeBearerToken(token) ? BEARER_LABEL : whole));
  }
  if (policy.values.basic) {
    out = out.replace(BASIC, (whole: string, encoded: string) => (looksLikeBasicCredentials(encoded) ? BASIC_LABEL : whole));
  }
  return out === value ? value : out;
}

function isAuthorityStop(code: number): boolean {
  // '/', '?', '#', whitespace, quotes, angle brackets: where the authority of a URL ends.
  return code === 47 || code === 63 || code === 35 || code <= 32 || code === 34 || code === 39 || code === 60 || code === 62;
}

/**
 * `scheme://user:password@host` -> `scheme://user:[REDACTED]@host`, anywhere in the text. As URL parsers
 * do, the userinfo ends at the last `@` of the authority, so a raw `@` in the password does not leak its tail.
 */
export function redactUrlPasswords(value: string, replacement: string = DEFAULT_REDACTION.replacement): string {
  let marker = value.indexOf('://');
  if (marker < 0 || value.indexOf('@', marker) < 0) return value;
  let out = '';
  let flushedTo = 0;
  while (marker >= 0) {
    const start = marker + 3;
    let cursor = start;
    let lastAt = -1;
    while (cursor < value.length && !isAuthorityStop(value.charCodeAt(cursor))) {
      if (value.charCodeAt(cursor) === 64) lastAt = cursor;
      cursor += 1;
    }
    const colon = lastAt > start ? value.indexOf(':', start) : -1;
    if (colon >= 0 && colon < lastAt - 1 && !value.startsWith(replacement, colon + 1)) {
      out += value.slice(flushedTo, colon + 1) + replacement;
      flushedTo = lastAt;
    }
    marker = value.indexOf('://', Math.max(cursor, start));
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

/** Characters of a key name in `key=value` text: `x-api-key`, `api_key`, `password`. */
function isNameChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 45;
}

const MAX_KEY_LENGTH = 64;
const MAX_GAP = 8;

interface KeyCandidate {
  /** The last name before the separator: `password` of `user[password]`, `sid` of `connect.sid`. */
  name: string;
  /** The same with the word before it when a single space separates them: `card number`, `private key`. */
  twoWords: string | undefined;
}

function nameEndingAt(value: string, end: number): number {
  let start = end;
  while (start > 0 && end - start < MAX_KEY_LENGTH && isNameChar(value.charCodeAt(start - 1))) start -= 1;
  return start;
}

/** The key standing before a `=` or `:` at `separator`, spaces, one quote and closing brackets skipped. */
function keyBefore(value: string, separator: number): KeyCandidate | undefined {
  let end = separator;
  let gap = 0;
  while (end > 0 && gap < MAX_GAP && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) {
    end -= 1;
    gap += 1;
  }
  const quote = value.charCodeAt(end - 1);
  if (quote === 34 || quote === 39) end -= 1;
  if (value.charCodeAt(end - 1) === 93) end -= 1;
  const start = nameEndingAt(value, end);
  if (start === end) return undefined;
  let twoWords: string | undefined;
  if (start >= 2 && value.charCodeAt(start - 1) === 32 && isNameChar(value.charCodeAt(start - 2))) {
    twoWords = value.slice(nameEndingAt(value, start - 1), end);
  }
  return { name: value.slice(start, end), twoWords };
}

function isUnquotedValueStop(code: number): boolean {
  // whitespace, & ; , ) } ] " ' < >
  return (
    code <= 32 || code === 38 || code === 59 || code === 44 || code === 41 || code === 125 || code === 93 ||
    code === 34 || code === 39 || code === 60 || code === 62
  );
}

interface ValueSpan {
  start: number;
  end: number;
}

/** Where the value after a separator lies; `toLineEnd` for headers like Cookie whose value has spaces and `;`. */
function valueAfter(value: string, separator: number, toLineEnd: boolean): ValueSpan {
  let start = separator + 1;
  let gap = 0;
  while (start < value.length && gap < MAX_GAP && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) {
    start += 1;
    gap += 1;
  }
  const quote = value.charCodeAt(start);
  if (quote === 34 || quote === 39) {
    let end = start + 1;
    while (end < value.length && value.charCodeAt(end) !== quote && value.charCodeAt(end) !== 10) {
      end += value.charCodeAt(end) === 92 ? 2 : 1;
    }
    return { start: start + 1, end: Math.min(end, value.length) };
  }
  let end = start;
  if (toLineEnd) {
    while (end < value.length && value.charCodeAt(end) !== 10 && value.charCodeAt(end) !== 13) end += 1;
  } else {
    while (end < value.length && !isUnquotedValueStop(value.charCodeAt(end))) end += 1;
  }
  return { start, end };
}

const SEPARATOR = /[=:]/g;
const HAS_SEPARATOR = /[=:]/;

/**
 * `key=value`, `key: value`, `"key":"value"`, `key = 'value'` inside free text, where the key is sensitive by
 * the policy: an SQL error quoting `password = '0192...'`, a query string in a stack, a header dump.
 */
export function redactKeyValues(value: string, policy: RedactionPolicy): string {
  if (!HAS_SEPARATOR.test(value)) return value;
  let out = '';
  let flushedTo = 0;
  SEPARATOR.lastIndex = 0;
  for (let match = SEPARATOR.exec(value); match !== null; match = SEPARATOR.exec(value)) {
    const separator = match.index;
    // `://` of a URL is not a key/value separator.
    if (value.charCodeAt(separator + 1) === 47 && value.charCodeAt(separator + 2) === 47) continue;
    const candidate = keyBefore(value, separator);
    if (candidate === undefined) continue;
    let key = candidate.name;
    if (!isSensitiveKey(key, policy)) {
      if (candidate.twoWords === undefined || !isSensitiveKey(candidate.twoWords, policy)) continue;
      key = candidate.twoWords;
    }
    const normalised = key.toLowerCase();
    const toLineEnd = normalised.includes('cookie') || normalised.includes('authorization');
    const span = valueAfter(value, separator, toLineEnd);
    // A value already redacted by its shape keeps its more telling label.
    const alreadyLabelled =
      value.startsWith(REDACTED_PREFIX, span.start) && (!toLineEnd || value.indexOf(']', span.start) + 1 === span.end);
    if (span.end <= span.start || alreadyLabelled) {
      SEPARATOR.lastIndex = Math.max(span.end, separator + 1);
      continue;
    }
    if (!value.startsWith(policy.replacement, span.start) || span.end - span.start !== policy.replacement.length) {
      out += value.slice(flushedTo, span.start) + policy.replacement;
      flushedTo = span.end;
    }
    // Never look inside a value already dealt with: keeps the scan linear.
    SEPARATOR.lastIndex = Math.max(span.end, separator + 1);
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

const MAYBE_DIGEST = /[0-9a-fA-F]{32}/;
const HEX_RUNS = /[0-9a-fA-F]+/g;

/** 32, 40 or 64 hex digits standing alone (MD5, SHA-1, SHA-256): a password hash in a token payload. */
export function redactDigests(value: string): string {
  if (!MAYBE_DIGEST.test(value)) return value;
  let out = '';
  let flushedTo = 0;
  HEX_RUNS.lastIndex = 0;
  for (let match = HEX_RUNS.exec(value); match !== null; match = HEX_RUNS.exec(value)) {
    const length = match[0].length;
    if (length !== 32 && length !== 40 && length !== 64) continue;
    const start = match.index;
    const end = start + length;
    const before = start > 0 ? value.charCodeAt(start - 1) : 32;
    const after = end < value.length ? value.charCodeAt(end) : 32;
    if (isBase64UrlChar(before) && before !== 45) continue;
    if (isBase64UrlChar(after) && after !== 45) continue;
    out += value.slice(flushedTo, start) + DIGEST_LABEL;
    flushedTo = end;
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

const PEM_BEGIN = '-----BEGIN ';
const PEM_END = '-----END ';
const PEM_DASHES = '-----';

/**
 * PEM private keys (`-----BEGIN RSA PRIVATE KEY-----` ... `-----END RSA PRIVATE KEY-----`, also EC,
 * OPENSSH, ENCRYPTED, PKCS#8): the whole block goes, or everything after BEGIN when the END is missing.
 */
export function redactPrivateKeys(value: string): string {
  let begin = value.indexOf(PEM_BEGIN);
  if (begin < 0) return value;
  let out = '';
  let flushedTo = 0;
  while (begin >= 0) {
    const labelEnd = value.indexOf(PEM_DASHES, begin + PEM_BEGIN.length);
    if (labelEnd < 0) break;
    const label = value.slice(begin + PEM_BEGIN.length, labelEnd);
    if (label.length > 40 || !label.endsWith('PRIVATE KEY')) {
      begin = value.indexOf(PEM_BEGIN, labelEnd);
      continue;
    }
    const endMarker = value.indexOf(PEM_END, labelEnd);
    const endDashes = endMarker < 0 ? -1 : value.indexOf(PEM_DASHES, endMarker + PEM_END.length);
    const blockEnd = endDashes < 0 ? value.length : endDashes + PEM_DASHES.length;
    out += value.slice(flushedTo, begin) + PRIVATE_KEY_LABEL;
    flushedTo = blockEnd;
    begin = value.indexOf(PEM_BEGIN, blockEnd);
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

export interface RedactStringOptions {
  /** Also redact 32/40/64-hex digests (token payloads). */
  digests?: boolean;
}

/**
 * Redact secrets by value in any text: PEM private keys, URL passwords, `Bearer`/`Basic` credentials, JWTs,
 * sensitive `key=value` pairs, card numbers (and digests when asked or when the policy says everywhere).
 * Returns the same string when nothing was found.
 */
export function redactString(value: string, policy: RedactionPolicy = DEFAULT_REDACTION, options: RedactStringOptions = {}): string {
  if (value.length < 4) return value;
  const rules = policy.values;
  let out = value;
  if (rules.privateKey) out = redactPrivateKeys(out);
  if (rules.urlPassword) out = redactUrlPasswords(out, policy.replacement);
  if (rules.bearer || rules.basic) out = redactAuthSchemes(out, policy);
  if (rules.jwt) out = redactJwts(out);
  if (rules.keyValueText) out = redactKeyValues(out, policy);
  if (rules.card) out = redactCards(out, rules.cardIssuerPrefix);
  if (options.digests === true || rules.digestsEverywhere) out = redactDigests(out);
  return out;
}
