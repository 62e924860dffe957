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

/** The escape of one code unit that needs one (a lone surrogate included). */
export function escapeOf(code: number): string {
  switch (code) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x00:
      return '\\0';
    case 0x5c:
      return '\\\\';
    default:
      return code < 0x100 ? '\\x' + hex2(code) : '\\u' + hex4(code);
  }
}

const ESCAPE_ALL =
  /[\u0000-\u001f\u007f-\u009f\\\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/gu;
const escapeCache = new Map<string, string>();

function escapeMatch(char: string): string {
  let escape = escapeCache.get(char);
  if (escape === undefined) {
    escape = escapeOf(char.charCodeAt(0));
    escapeCache.set(char, escape);
  }
  return escape;
}

/** Escape everything in one native pass: linear, and faster than building the string by hand. */
function escapeAll(value: string): string {
  return value.replace(ESCAPE_ALL, escapeMatch);
}

function isHighSurrogatePair(value: string, index: number, code: number): boolean {
  if (code < 0xd800 || code > 0xdbff) return false;
  const next = value.charCodeAt(index + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

/** Output length of the escape for the unit at `index`; 0 when it passes through. */
function escapeLength(value: string, index: number, code: number): number {
  if (code < 0x20) return code === 0x0a || code === 0x0d || code === 0x09 || code === 0x00 ? 2 : 4;
  if (code === 0x5c) return 2;
  if (code >= 0x7f && code <= 0x9f) return 4;
  if (code >= 0xd800 && code <= 0xdfff) return isHighSurrogatePair(value, index, code) ? 0 : 6;
  return isInvisibleFormat(code) ? 6 : 0;
}

/**
 * How many code units from the start of `value` fit in `budget` output characters once escaped. Stops only
 * between whole escapes and never inside a surrogate pair; work is bounded by the budget.
 */
function unitsFitting(value: string, budget: number): number {
  let outLength = 0;
  let index = 0;
  const length = value.length;
  while (index < length) {
    const code = value.charCodeAt(index);
    const escaped = escapeLength(value, index, code);
    const units = escaped === 0 && isHighSurrogatePair(value, index, code) ? 2 : 1;
    const added = escaped === 0 ? units : escaped;
    if (outLength + added > budget) break;
    outLength += added;
    index += units;
  }
  return index;
}

export function truncationMarker(droppedUnits: number): string {
  return `…[+${droppedUnits} chars]`;
}

function capOf(maxLength: number): number {
  return Number.isNaN(maxLength) ? DEFAULT_MAX_LENGTH : Math.max(0, Math.floor(maxLength));
}

/** True when `neutralise(value, maxLength)` escapes without cutting (for encoders that escape in one pass). */
export function fitsUncut(value: string, maxLength: number): boolean {
  const cap = capOf(maxLength);
  return value.length * 6 <= cap || unitsFitting(value, cap) === value.length;
}

/**
 * Neutralise `value` for a log sink (see the file comment for the escapes). When the escaped text is longer
 * than `maxLength`, it is cut at an escape boundary and the visible marker `…[+N chars]` is appended, N being
 * the UTF-16 code units of the input left out; the whole result then fits in `maxLength` (unless `maxLength`
 * is shorter than the marker itself, when the result is the marker alone). `Infinity` disables the cap.
 */
export function neutralise(value: string, maxLength: number = DEFAULT_MAX_LENGTH): string {
  return neutraliseCut(value, maxLength, 0);
}

/**
 * `neutralise` of text that is itself the head of a longer one: `droppedBefore` units were already cut off
 * its end, so the marker is always added and counts them too.
 */
export function neutraliseCut(value: string, maxLength: number, droppedBefore: number): string {
  const cap = capOf(maxLength);
  const needsEscape = NEEDS_ESCAPE.test(value);
  if (droppedBefore <= 0) {
    if (!needsEscape) return value.length <= cap ? value : cutPlain(value, cap, 0);
    // Each unit becomes at most 6 characters: short text needs no measuring.
    if (value.length * 6 <= cap || unitsFitting(value, cap) === value.length) return escapeAll(value);
  }
  const budget = Math.max(0, cap - truncationMarker(value.length + droppedBefore).length);
  if (!needsEscape) return cutPlain(value, cap, droppedBefore);
  const kept = unitsFitting(value, budget);
  return escapeAll(value.slice(0, kept)) + truncationMarker(value.length - kept + droppedBefore);
}

/** Truncation of a string that needs no escaping: cut so that the text plus marker fits, not inside a pair. */
function cutPlain(value: string, cap: number, droppedBefore: number): string {
  const reserve = truncationMarker(value.length + droppedBefore).length;
  let keep = Math.min(value.length, Math.max(0, cap - reserve));
  if (keep > 0 && isHighSurrogatePair(value, keep - 1, value.charCodeAt(keep - 1))) keep -= 1;
  return value.slice(0, keep) + truncationMarker(value.length - keep + droppedBefore);
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
  // An escape is at most 6 characters, so only the last 6 before the cut matter. Parse them from a point
  // that starts an escape or plain text: the first backslash of the run that reaches into that window.
  let index = Math.max(0, keep - 6);
  while (index > 0 && value.charCodeAt(index - 1) === 0x5c) index -= 1;
  while (index < keep) {
    if (value.charCodeAt(index) !== 0x5c) {
      index += 1;
      continue;
    }
    const kind = value[index + 1];
    const length = kind === 'x' ? 4 : kind === 'u' ? 6 : 2;
    if (index + length > keep) {
      keep = index;
      break;
    }
    index += length;
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
