/**
 * Encoders for the parts of an RFC 5424 record. Each takes any string and returns one that the grammar
 * accepts and that cannot forge another field or record.
 */
import { DEFAULT_MAX_LENGTH, escapeOf, fitsUncut, neutralise } from './neutralise';

/** RFC 5424 section 6 header field limits. */
export const HEADER_FIELD_LIMITS = {
  HOSTNAME: 255,
  APP_NAME: 48,
  PROCID: 128,
  MSGID: 32,
} as const;

/** RFC 5424 SD-NAME (SD-ID and PARAM-NAME) limit. */
export const SD_NAME_MAX_LENGTH = 32;

/** Appended to a header field that was cut; ASCII because header fields must be. */
export const HEADER_TRUNCATION_MARKER = '...';

const HEX = '0123456789abcdef';

/** Header fields allow printable US-ASCII 33..126; the backslash is ours to escape with. */
const HEADER_PLAIN = /^[\x21-\x5b\x5d-\x7e]*$/;

function headerEscape(code: number): string {
  if (code === 0x5c) return '\\\\';
  if (code < 0x100) return '\\x' + HEX[code >> 4] + HEX[code & 15];
  return '\\u' + HEX[(code >> 12) & 15] + HEX[(code >> 8) & 15] + HEX[(code >> 4) & 15] + HEX[code & 15];
}

/**
 * An RFC 5424 header field (HOSTNAME, APP-NAME, PROCID, MSGID): printable US-ASCII 33..126 only.
 * Any other character (space, controls, non-ASCII, each UTF-16 unit of an astral character) becomes a visible
 * escape, `\xHH` or `\uHHHH`, and the backslash becomes `\\`, so nothing is lost silently and nothing can
 * split the header. Empty gives the NILVALUE `-`. Longer than `maxLength`: cut at an escape boundary and
 * ended with `...` within the limit.
 */
export function encodeHeaderField(value: string, maxLength: number): string {
  const cap = Math.max(1, Math.floor(maxLength));
  if (value.length === 0) return '-';
  if (HEADER_PLAIN.test(value)) return value.length <= cap ? value : cutHeader(value, cap);
  let out = '';
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    out += code >= 0x21 && code <= 0x7e && code !== 0x5c ? value[index] : headerEscape(code);
    // No need to escape more than can be kept (plus a little to know that it was cut).
    if (out.length > cap) break;
  }
  return out.length <= cap ? out : cutHeader(out, cap);
}

/** Cut encoded header text to fit `cap` with the marker, never inside an escape. */
function cutHeader(encoded: string, cap: number): string {
  const marker = cap > HEADER_TRUNCATION_MARKER.length ? HEADER_TRUNCATION_MARKER : '';
  const budget = cap - marker.length;
  let keep = 0;
  let index = 0;
  while (index < encoded.length) {
    let step = 1;
    if (encoded.charCodeAt(index) === 0x5c) {
      const kind = encoded[index + 1];
      step = kind === 'x' ? 4 : kind === 'u' ? 6 : 2;
    }
    if (index + step > budget) break;
    index += step;
    keep = index;
  }
  const kept = encoded.slice(0, keep) + marker;
  return kept.length > 0 ? kept : '-';
}

/**
 * An RFC 5424 SD-NAME (SD-ID or PARAM-NAME): 1..32 printable US-ASCII characters except `=`, space, `]`
 * and `"`. Disallowed characters become `_` (a name is an identifier we choose, so readability wins over
 * reversibility); empty becomes `_`; longer names are cut to 32.
 */
export function encodeSdName(name: string): string {
  let out = '';
  const length = Math.min(name.length, SD_NAME_MAX_LENGTH);
  for (let index = 0; index < length; index += 1) {
    const code = name.charCodeAt(index);
    const allowed = code >= 0x21 && code <= 0x7e && code !== 0x3d && code !== 0x5d && code !== 0x22;
    out += allowed ? name[index] : '_';
  }
  return out.length > 0 ? out : '_';
}

const SD_SPECIAL = /["\\\]]/;
const SD_SPECIAL_ALL = /["\\\]]/g;

function escapeSdChar(char: string): string {
  return char === '"' ? '\\"' : char === ']' ? '\\]' : '\\\\';
}

/** What neutralise escapes, plus the three SD specials: one pass does both layers. */
const SD_ANY = /[\u0000-\u001f\u007f-\u009f\\"\]\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;
const SD_ANY_ALL = /[\u0000-\u001f\u007f-\u009f\\"\]\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/gu;
const sdEscapes = new Map<string, string>();

/** The neutralise escape with its backslashes SD-escaped, or the SD escape of `"` and `]`. */
function sdEscapeMatch(char: string): string {
  let escape = sdEscapes.get(char);
  if (escape === undefined) {
    escape = char === '"' || char === ']' ? '\\' + char : escapeOf(char.charCodeAt(0)).replace(/\\/g, '\\\\');
    sdEscapes.set(char, escape);
  }
  return escape;
}

/**
 * An RFC 5424 PARAM-VALUE: first neutralised (CWE-117, capped at `maxLength` with the visible marker), then
 * `"`, `\` and `]` escaped with a backslash as section 6.3.3 requires. A receiver that undoes the RFC
 * escaping gets the neutralised text back exactly. Uncut values are encoded in a single pass.
 */
export function encodeSdValue(value: string, maxLength: number = DEFAULT_MAX_LENGTH): string {
  if (!SD_ANY.test(value) && value.length <= maxLength) return value;
  if (fitsUncut(value, maxLength)) return value.replace(SD_ANY_ALL, sdEscapeMatch);
  const neutralised = neutralise(value, maxLength);
  return SD_SPECIAL.test(neutralised) ? neutralised.replace(SD_SPECIAL_ALL, escapeSdChar) : neutralised;
}
