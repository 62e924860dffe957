/**
 * CWE-532 in URLs: Juice Shop sends passwords in the query (`/rest/user/change-password?current=..&new=..`),
 * tokens travel in query strings and fragments, and a URL may carry `user:password@`.
 */
import { DEFAULT_REDACTION, RedactionPolicy, isSensitiveKey } from './policy';
import { redactString } from './redact-string';

function safeDecode(text: string, plusIsSpace = true): string {
  const spaced = plusIsSpace && text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * Percent-encode redacted text, keeping the label's brackets and colon readable. Text with a lone
 * surrogate cannot be encoded and is returned as it is (neutralising it is the next step's job).
 */
function encodeForUrl(text: string, encode: (text: string) => string): string {
  try {
    return encode(text).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%3A/g, ':');
  } catch {
    return text;
  }
}

/** `user[password]`, `data.password` and `password` are all the key `password`; any part may be sensitive. */
function isSensitiveParameter(name: string, policy: RedactionPolicy): boolean {
  if (isSensitiveKey(name, policy)) return true;
  const parts = name.split(/[.[\]]/);
  for (let index = parts.length - 1; index >= 0; index -= 1) {
    if (parts[index].length > 0) return parts[index] !== name && isSensitiveKey(parts[index], policy);
  }
  return false;
}

/** A query string (without `?`): sensitive parameters -> `[REDACTED]`, other values redacted by value. */
export function redactQuery(query: string, policy: RedactionPolicy = DEFAULT_REDACTION): string {
  if (query.length === 0) return query;
  const parts = query.split('&');
  let changed = false;
  for (let index = 0; index < parts.length; index += 1) {
    const part = parts[index];
    const equals = part.indexOf('=');
    let redacted: string;
    if (equals < 0) {
      redacted = redactString(part, policy);
    } else {
      const rawKey = part.slice(0, equals);
      const rawValue = part.slice(equals + 1);
      if (isSensitiveParameter(safeDecode(rawKey), policy)) {
        redacted = rawValue.length === 0 ? part : `${rawKey}=${policy.replacement}`;
      } else {
        const decoded = safeDecode(rawValue);
        const byValue = redactString(decoded, policy);
        if (byValue !== decoded) redacted = `${rawKey}=${encodeForUrl(byValue, encodeURIComponent)}`;
        else if (decoded === rawValue) redacted = part;
        else redacted = `${rawKey}=${redactString(rawValue, policy)}`;
      }
    }
    if (redacted !== part) {
      parts[index] = redacted;
      changed = true;
    }
  }
  return changed ? parts.join('&') : query;
}

/**
 * A URL, absolute or just path and query: the userinfo password, sensitive query parameters, and secrets
 * found by value anywhere (a JWT or card number in the path, a token in the fragment). The path is kept.
 */
export function redactUrl(url: string, policy: RedactionPolicy = DEFAULT_REDACTION): string {
  const hash = url.indexOf('#');
  const beforeHash = hash >= 0 ? url.slice(0, hash) : url;
  const question = beforeHash.indexOf('?');
  const base = question >= 0 ? beforeHash.slice(0, question) : beforeHash;
  let out = redactString(base, policy);
  if (out === base && base.includes('%')) {
    // A secret may hide behind percent-encoding (`4111%201111%201111%201111`): redact the decoded path.
    const decoded = safeDecode(base, false);
    const redacted = redactString(decoded, policy);
    if (redacted !== decoded) out = encodeForUrl(redacted, encodeURI);
  }
  if (question >= 0) out += '?' + redactQuery(beforeHash.slice(question + 1), policy);
  if (hash >= 0) {
    const fragment = url.slice(hash + 1);
    out += '#' + (fragment.includes('=') ? redactQuery(fragment, policy) : redactString(fragment, policy));
  }
  return out === url ? url : out;
}
