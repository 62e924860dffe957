/**
 * CWE-117: make a string safe to write into a log line. Characters that can forge a record, move the
 * cursor, recolour a terminal, reorder text or break a UTF-8 sink become visible escapes, so an analyst
 * sees the attack instead of suffering it. Nothing is dropped.
 *
 * Escapes (the grammar `unescapeNeutralised` reverses):
 *   `\\`  backslash itself, so every escape below is unambiguous
 *   `\n` `\r` `\t` `\0`  LF, CR, TAB, NUL
 *   `\xHH`  any other C0 control (ESC is `\x1b`), DEL (`\x7f`), C1 controls (NEL is `\x85`)
 *   `\uHHHH`  U+2028/U+2029, bidi controls (U+061C, U+200E/U+200F, U+202A-U+202E, U+2066-U+2069),
 *             invisible format characters (U+200B-U+200D, U+2060-U+2065, U+FEFF), lone UTF-16 surrogates
 * Hex digits are lower case.
 */

export const DEFAULT_MAX_LENGTH = 4096;

/** Everything `neutralise` escapes. With the u flag a lone surrogate matches `[\ud800-\udfff]`; a valid pair does not. */
const NEEDS_ESCAPE =
  /[\u0000-\u001f\u007f-\u009f\\\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;

/** As above without the backslash: characters that are dangerous in a sink, not just ambiguous. */
const UNSAFE_CHAR =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;

/** True when `neutralise` would change the text (ignoring length). One regex test: the hot-path gate. */
export function needsNeutralising(value: string): boolean {
  return NEEDS_ESCAPE.test(value);
}

/**
 * True when the text holds a raw control, separator, bidi/invisible format character or lone surrogate.
 * Output of `neutralise` never does.
 */
export function hasUnsafeChars(value: string): boolean {
  return UNSAFE_CHAR.test(value);
}

const HEX = '0123456789abcdef';

function hex2(code: number): string {
  return HEX[(code >> 4) & 15] + HEX[code & 15];
}

function hex4(code: number): string {
  return hex2(code >> 8) + hex2(code & 255);
}

function isInvisibleFormat(code: number): boolean {
  return (
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2069) ||
    code === 0xfeff
  );
}

/**
 * The escape for the code unit at `index`, or undefined when it passes through as it is. A valid surrogate
 * pair passes through (the caller advances by two units); a lone surrogate is escaped.
 */
function escapeAt(value: string, index: number, code: number): string | undefined {
  if (code < 0x20) {
    switch (code) {
      case 0x0a:
        return '\\n';
      case 0x0d:
        return '\\r';
      case 0x09:
        return '\\t';
      case 0x00:
        return '\\0';
      default:
        return '\\x' + hex2(code);
    }
  }
  if (code === 0x5c) return '\\\\';
  if (code >= 0x7f && code <= 0x9f) return '\\x' + hex2(code);
  if (code >= 0xd800 && code <= 0xdfff) {
    if (code <= 0xdbff) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) return undefined;
    }
    return '\\u' + hex4(code);
  }
  if (isInvisibleFormat(code)) return '\\u' + hex4(code);
  return undefined;
}

function isHighSurrogatePair(value: string, index: number, code: number): boolean {
  if (code < 0xd800 || code > 0xdbff) return false;
  const next = value.charCodeAt(index + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

interface EscapedPrefix {
  text: string;
  /** Code units of the input represented in `text`. */
  consumed: number;
}

/**
 * Escape from the start of `value` until the output would exceed `budget` characters. Stops only between
 * whole escapes and never inside a surrogate pair. Work is bounded by the budget, not by the input size.
 */
function escapePrefix(value: string, budget: number): EscapedPrefix {
  let text = '';
  let outLength = 0;
  let flushedTo = 0;
  let index = 0;
  const length = value.length;
  while (index < length) {
    const code = value.charCodeAt(index);
    const escape = escapeAt(value, index, code);
    if (escape === undefined) {
      const units = isHighSurrogatePair(value, index, code) ? 2 : 1;
      if (outLength + units > budget) break;
      outLength += units;
      index += units;
      continue;
    }
    if (outLength + escape.length > budget) break;
    text += value.slice(flushedTo, index) + escape;
    outLength += escape.length;
    index += 1;
    flushedTo = index;
  }
  if (flushedTo < index) text += value.slice(flushedTo, index);
  return { text, consumed: index };
}

export function truncationMarker(droppedUnits: number): string {
  return `…[+${droppedUnits} chars]`;
}

/**
 * Neutralise `value` for a log sink (see the file comment for the escapes). When the escaped text is longer
 * than `maxLength`, it is cut at an escape boundary and the visible marker `…[+N chars]` is appended, N being
 * the UTF-16 code units of the input left out; the whole result then fits in `maxLength` (unless `maxLength`
 * is shorter than the marker itself, when the result is the marker alone). `Infinity` disables the cap.
 */
export function neutralise(value: string, maxLength: number = DEFAULT_MAX_LENGTH): string {
  const cap = Number.isNaN(maxLength) ? DEFAULT_MAX_LENGTH : Math.max(0, Math.floor(maxLength));
  if (!NEEDS_ESCAPE.test(value)) {
    if (value.length <= cap) return value;
    return cutPlain(value, cap);
  }
  const whole = escapePrefix(value, cap);
  if (whole.consumed === value.length) return whole.text;
  const marker = truncationMarker(value.length);
  const kept = escapePrefix(value, Math.max(0, cap - marker.length));
  return kept.text + truncationMarker(value.length - kept.consumed);
}

/** Truncation of a string that needs no escaping: cut so that the text plus marker fits, not inside a pair. */
function cutPlain(value: string, cap: number): string {
  const reserve = truncationMarker(value.length).length;
  let keep = Math.max(0, cap - reserve);
  if (keep > 0 && isHighSurrogatePair(value, keep - 1, value.charCodeAt(keep - 1))) keep -= 1;
  return value.slice(0, keep) + truncationMarker(value.length - keep);
}

/**
 * Cap a string's length with the same marker as `neutralise`, without escaping anything. For text that is
 * already neutralised: never cuts inside an escape sequence (`\\`, `\n`, `\xHH`, `\uHHHH`) or a surrogate pair.
 */
export function capNeutralised(value: string, maxLength: number): string {
  if (value.length <= maxLength) return value;
  const reserve = truncationMarker(value.length).length;
  let keep = Math.max(0, maxLength - reserve);
  if (keep > 0 && isHighSurrogatePair(value, keep - 1, value.charCodeAt(keep - 1))) keep -= 1;
  // Walk back over a run of backslashes and the escape they may start: an escape is at most 6 characters.
  const windowStart = Math.max(0, keep - 6);
  let index = windowStart;
  // Find escape boundaries from a point known to be outside an escape: a backslash run must be parsed from its
  // start, so step back to the first of the backslashes before the window.
  while (index > 0 && value.charCodeAt(index - 1) === 0x5c) index -= 1;
  while (index < keep) {
    if (value.charCodeAt(index) !== 0x5c) {
      index += 1;
      continue;
    }
    const kind = value[index + 1];
    const escapeLength = kind === 'x' ? 4 : kind === 'u' ? 6 : 2;
    if (index + escapeLength > keep) {
      keep = index;
      break;
    }
    index += escapeLength;
  }
  return value.slice(0, keep) + truncationMarker(value.length - keep);
}

function parseHex(text: string): number {
  return /^[0-9a-fA-F]+$/.test(text) ? parseInt(text, 16) : NaN;
}

/**
 * The inverse of `neutralise` for untruncated output: `unescapeNeutralised(neutralise(s, Infinity)) === s`
 * for every string s. A backslash followed by anything else is kept as it is.
 */
export function unescapeNeutralised(value: string): string {
  if (value.indexOf('\\') < 0) return value;
  let out = '';
  let flushedTo = 0;
  let index = value.indexOf('\\');
  while (index >= 0) {
    const kind = value[index + 1];
    let decoded: string | undefined;
    let length = 2;
    switch (kind) {
      case '\\':
        decoded = '\\';
        break;
      case 'n':
        decoded = '\n';
        break;
      case 'r':
        decoded = '\r';
        break;
      case 't':
        decoded = '\t';
        break;
      case '0':
        decoded = '\0';
        break;
      case 'x': {
        const code = parseHex(value.slice(index + 2, index + 4));
        if (!Number.isNaN(code) && index + 4 <= value.length) {
          decoded = String.fromCharCode(code);
          length = 4;
        }
        break;
      }
      case 'u': {
        const code = parseHex(value.slice(index + 2, index + 6));
        if (!Number.isNaN(code) && index + 6 <= value.length) {
          decoded = String.fromCharCode(code);
          length = 6;
        }
        break;
      }
      default:
        break;
    }
    if (decoded === undefined) {
      index = value.indexOf('\\', index + 1);
      continue;
    }
    out += value.slice(flushedTo, index) + decoded;
    flushedTo = index + length;
    index = value.indexOf('\\', flushedTo);
  }
  return out + value.slice(flushedTo);
}
