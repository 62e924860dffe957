/**
 * RFC 5424 STRUCTURED-DATA: finding where it ends in the bytes, and reading it from its text.
 *
 * The bytes are scanned once to find the end (quotes, escapes and brackets are ASCII, and no byte of a
 * multi-byte UTF-8 character is ASCII, so scanning bytes is exact); the region is then decoded once and
 * parsed as a string. The text is kept as received (the store keeps it), and parsing it again gives the
 * same object, so a stored record reads back as it was collected.
 */

export type StructuredData = Record<string, Record<string, string>>;

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const QUOTE = 0x22;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

export interface SdExtent {
  /** Index just after the last `]`. */
  end: number;
  /** A byte >= 0x80 occurs inside (the text must be decoded as UTF-8). */
  nonAscii: boolean;
}

/**
 * From an opening `[`, find where the SD elements end: after a `]` (outside quotes) not followed by `[`.
 * Returns undefined when the data ends inside an element.
 */
export function scanStructuredData(data: Buffer, start: number): SdExtent | undefined {
  let pos = start;
  let nonAscii = false;
  const length = data.length;
  while (pos < length && data[pos] === OPEN) {
    pos++;
    let inQuotes = false;
    for (;;) {
      if (pos >= length) return undefined;
      const byte = data[pos];
      if (byte >= 0x80) nonAscii = true;
      if (inQuotes) {
        if (byte === BACKSLASH) pos++;
        else if (byte === QUOTE) inQuotes = false;
      } else if (byte === QUOTE) {
        inQuotes = true;
      } else if (byte === CLOSE) {
        pos++;
        break;
      }
      pos++;
    }
  }
  return { end: pos, nonAscii };
}

function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isNameChar(code: number): boolean {
  return code >= 0x21 && code <= 0x7e && code !== EQUALS && code !== CLOSE && code !== QUOTE;
}

function name(text: string, start: number): number {
  let pos = start;
  while (pos < text.length && pos - start <= 32 && isNameChar(text.charCodeAt(pos))) pos++;
  return pos === start || pos - start > 32 ? -1 : pos;
}

/**
 * Parse SD text (one or more elements). SD-NAMEs are 1..32 printable ASCII characters except `= ] "`;
 * values are unescaped (`\"`, `\\`, `\]`; a backslash before anything else stays). A repeated SD-ID makes it
 * invalid (RFC 5424 6.3.2: a second one would shadow the first); a repeated PARAM-NAME keeps the first.
 * An SD-ID or PARAM-NAME of `__proto__` is defined as an own property, so it is data, never a prototype
 * (plain objects otherwise: V8 keeps them compact, which matters at 100k messages a second).
 */
export function parseStructuredData(text: string): StructuredData | undefined {
  const sd: StructuredData = {};
  let pos = 0;
  const length = text.length;
  if (length === 0) return undefined;
  while (pos < length) {
    if (text.charCodeAt(pos) !== OPEN) return undefined;
    const idEnd = name(text, pos + 1);
    if (idEnd < 0) return undefined;
    const id = text.slice(pos + 1, idEnd);
    if (Object.prototype.hasOwnProperty.call(sd, id)) return undefined;
    const params: Record<string, string> = {};
    pos = idEnd;
    while (text.charCodeAt(pos) === SPACE) {
      const nameEnd = name(text, pos + 1);
      if (nameEnd < 0 || text.charCodeAt(nameEnd) !== EQUALS || text.charCodeAt(nameEnd + 1) !== QUOTE) return undefined;
      const paramName = text.slice(pos + 1, nameEnd);
      let value = '';
      let from = nameEnd + 2;
      let cursor = from;
      for (;;) {
        if (cursor >= length) return undefined;
        const code = text.charCodeAt(cursor);
        if (code === QUOTE) break;
        if (code === BACKSLASH) {
          const next = text.charCodeAt(cursor + 1);
          if (next === QUOTE || next === BACKSLASH || next === CLOSE) {
            value += text.slice(from, cursor);
            from = cursor + 1;
          }
          cursor += 2;
          continue;
        }
        cursor++;
      }
      value += text.slice(from, cursor);
      if (!Object.prototype.hasOwnProperty.call(params, paramName)) setOwn(params, paramName, value);
      pos = cursor + 1;
    }
    if (text.charCodeAt(pos) !== CLOSE) return undefined;
    setOwn(sd, id, params);
    pos++;
  }
  return sd;
}

/** SD text for an SD object (records built by hand, not received): the inverse of parseStructuredData. */
export function formatStructuredData(sd: StructuredData): string {
  let text = '';
  for (const id of Object.keys(sd)) {
    text += `[${id}`;
    const params = sd[id];
    for (const paramName of Object.keys(params)) text += ` ${paramName}="${String(params[paramName]).replace(/["\\\]]/g, '\\$&')}"`;
    text += ']';
  }
  return text;
}
