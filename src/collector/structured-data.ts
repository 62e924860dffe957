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
  /** One of the elements has this SD-ID (checkStructuredData's `wanted`). */
  hasWanted: boolean;
}

function isNameByte(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== EQUALS && byte !== CLOSE && byte !== QUOTE;
}

/** End of an SD-NAME (1..32 name bytes) starting at `start`, or -1. */
function nameEnd(data: Uint8Array, start: number, length: number): number {
  let pos = start;
  const limit = Math.min(length, start + 33);
  while (pos < limit && isNameByte(data[pos])) pos++;
  return pos === start || pos - start > 32 ? -1 : pos;
}

function sameBytes(data: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (data[start + i] !== name[i]) return false;
  return true;
}

/**
 * STRUCTURED-DATA checked where it lies in the bytes, from an opening `[` to the first `]` (outside quotes)
 * not followed by `[`: exactly what parseStructuredData accepts from the decoded text (names are ASCII, and
 * no byte of a multi-byte or invalid UTF-8 sequence is ASCII, so bytes and text agree), without building it.
 * Undefined when it is not valid SD, a repeated SD-ID included. `wanted` (an ASCII SD-ID) is looked for.
 */
export function checkStructuredData(data: Uint8Array, start: number, wanted: Uint8Array): SdExtent | undefined {
  const length = data.length;
  let pos = start;
  let nonAscii = false;
  let hasWanted = false;
  // SD-IDs seen, to refuse a repeated one (few elements in practice; a set once there are many).
  const ids: Array<[number, number]> = [];
  let idSet: Set<string> | undefined;
  do {
    const idEnd = nameEnd(data, pos + 1, length);
    if (idEnd < 0) return undefined;
    const idStart = pos + 1;
    if (idSet === undefined) {
      for (const [from, to] of ids) if (sameBytes(data, idStart, idEnd, data.subarray(from, to))) return undefined;
      ids.push([idStart, idEnd]);
      if (ids.length > 8) idSet = new Set(ids.map(([from, to]) => Buffer.from(data.buffer, data.byteOffset + from, to - from).toString('latin1')));
    } else {
      const id = Buffer.from(data.buffer, data.byteOffset + idStart, idEnd - idStart).toString('latin1');
      if (idSet.has(id)) return undefined;
      idSet.add(id);
    }
    if (!hasWanted && sameBytes(data, idStart, idEnd, wanted)) hasWanted = true;
    pos = idEnd;
    while (data[pos] === SPACE) {
      const paramEnd = nameEnd(data, pos + 1, length);
      if (paramEnd < 0 || data[paramEnd] !== EQUALS || data[paramEnd + 1] !== QUOTE) return undefined;
      pos = paramEnd + 2;
      for (;;) {
        if (pos >= length) return undefined;
        const byte = data[pos];
        if (byte === QUOTE) break;
        if (byte === BACKSLASH) {
          // Skips the escaped byte; a multi-byte character's other bytes are never a quote.
          if (data[pos + 1] >= 0x80) nonAscii = true;
          pos += 2;
          continue;
        }
        if (byte >= 0x80) nonAscii = true;
        pos++;
      }
      pos++;
    }
    if (data[pos] !== CLOSE) return undefined;
    pos++;
  } while (pos < length && data[pos] === OPEN);
  return { end: pos, nonAscii, hasWanted };
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
