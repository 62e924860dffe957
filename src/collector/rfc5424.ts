import { SP, decodeText, type ParsedMessage, type Pri } from './syntax';

/**
 * RFC 5424 on a Buffer:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`.
 * Header fields are printable US-ASCII with RFC maximum lengths, `-` is NILVALUE. SD-PARAM values are
 * unescaped (`\"`, `\\`, `\]`; a backslash before anything else stays). A BOM opening MSG is dropped.
 * Returns undefined when the frame breaks the syntax: the caller keeps it as a raw record.
 */

const DASH = 0x2d;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const QUOTE = 0x22;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** A header field: [start, end) of printable ASCII up to a space, at most maxLength bytes. */
function headerField(data: Buffer, start: number, maxLength: number): number {
  let pos = start;
  const limit = Math.min(data.length, start + maxLength + 1);
  while (pos < limit) {
    const byte = data[pos];
    if (byte === SP) break;
    if (byte < 0x21 || byte > 0x7e) return -1;
    pos++;
  }
  if (pos === start || pos - start > maxLength || pos >= data.length || data[pos] !== SP) return -1;
  return pos;
}

function nilOr(data: Buffer, start: number, end: number): string | undefined {
  if (end - start === 1 && data[start] === DASH) return undefined;
  return data.toString('latin1', start, end);
}

function isSdNameByte(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== EQUALS && byte !== CLOSE && byte !== QUOTE;
}

/** SD-NAME: [start, end) of 1..32 name bytes. */
function sdName(data: Buffer, start: number): number {
  let pos = start;
  while (pos < data.length && pos - start < 33 && isSdNameByte(data[pos])) pos++;
  if (pos === start || pos - start > 32) return -1;
  return pos;
}

interface ParamValue {
  value: string;
  valid: boolean;
  /** Index just after the closing quote. */
  end: number;
}

/** PARAM-VALUE from just after its opening quote. */
function paramValue(data: Buffer, start: number): ParamValue | undefined {
  let pos = start;
  let escaped = false;
  while (pos < data.length) {
    const byte = data[pos];
    if (byte === QUOTE) break;
    if (byte === BACKSLASH) {
      escaped = true;
      pos += 2;
      continue;
    }
    pos++;
  }
  if (pos >= data.length) return undefined;
  if (!escaped) {
    const { text, valid } = decodeText(data, start, pos);
    return { value: text, valid, end: pos + 1 };
  }
  // Rebuild without the escaping backslashes, from byte pieces so multi-byte characters stay whole.
  const pieces: Buffer[] = [];
  let from = start;
  for (let i = start; i < pos; i++) {
    if (data[i] !== BACKSLASH) continue;
    const next = data[i + 1];
    if (next === QUOTE || next === BACKSLASH || next === CLOSE) {
      pieces.push(data.subarray(from, i));
      from = i + 1;
    }
    i++;
  }
  pieces.push(data.subarray(from, pos));
  const joined = Buffer.concat(pieces);
  const { text, valid } = decodeText(joined, 0, joined.length);
  return { value: text, valid, end: pos + 1 };
}

interface SdResult {
  sd?: Record<string, Record<string, string>>;
  valid: boolean;
  end: number;
}

function structuredData(data: Buffer, start: number): SdResult | undefined {
  if (data[start] === DASH) return { valid: true, end: start + 1 };
  if (data[start] !== OPEN) return undefined;
  // Null prototypes: an SD-ID or PARAM-NAME of `__proto__` is data, not a prototype.
  const sd: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>;
  let valid = true;
  let pos = start;
  while (pos < data.length && data[pos] === OPEN) {
    const idEnd = sdName(data, pos + 1);
    if (idEnd < 0) return undefined;
    const id = data.toString('latin1', pos + 1, idEnd);
    // An SD-ID must not repeat (RFC 5424 6.3.2); a second one is an attempt to shadow the first.
    if (Object.prototype.hasOwnProperty.call(sd, id)) return undefined;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    pos = idEnd;
    while (pos < data.length && data[pos] === SP) {
      const nameEnd = sdName(data, pos + 1);
      if (nameEnd < 0 || data[nameEnd] !== EQUALS || data[nameEnd + 1] !== QUOTE) return undefined;
      const name = data.toString('latin1', pos + 1, nameEnd);
      const value = paramValue(data, nameEnd + 2);
      if (value === undefined) return undefined;
      if (!value.valid) valid = false;
      // A PARAM-NAME may repeat within an element; the first one counts.
      if (!Object.prototype.hasOwnProperty.call(params, name)) params[name] = value.value;
      pos = value.end;
    }
    if (data[pos] !== CLOSE) return undefined;
    sd[id] = params;
    pos++;
  }
  return { sd, valid, end: pos };
}

export function parseRfc5424(data: Buffer, pri: Pri): ParsedMessage | undefined {
  // VERSION must be 1, then SP.
  let pos = pri.end;
  if (data[pos] !== 0x31 || data[pos + 1] !== SP) return undefined;
  pos += 2;

  const timestampEnd = headerField(data, pos, 48);
  if (timestampEnd < 0) return undefined;
  const timestamp = nilOr(data, pos, timestampEnd);
  if (timestamp !== undefined && !TIMESTAMP.test(timestamp)) return undefined;
  pos = timestampEnd + 1;

  const hostEnd = headerField(data, pos, 255);
  if (hostEnd < 0) return undefined;
  const host = nilOr(data, pos, hostEnd);
  pos = hostEnd + 1;

  const appEnd = headerField(data, pos, 48);
  if (appEnd < 0) return undefined;
  const app = nilOr(data, pos, appEnd);
  pos = appEnd + 1;

  const procEnd = headerField(data, pos, 128);
  if (procEnd < 0) return undefined;
  const procId = nilOr(data, pos, procEnd);
  pos = procEnd + 1;

  const msgIdEnd = headerField(data, pos, 32);
  if (msgIdEnd < 0) return undefined;
  const msgId = nilOr(data, pos, msgIdEnd);
  pos = msgIdEnd + 1;

  const sd = structuredData(data, pos);
  if (sd === undefined) return undefined;
  pos = sd.end;

  let message = '';
  let messageValid = true;
  if (pos < data.length) {
    if (data[pos] !== SP) return undefined;
    pos++;
    // MSG-UTF8 starts with a BOM (RFC 5424 6.4): it marks the encoding and is not part of the text.
    if (data[pos] === 0xef && data[pos + 1] === 0xbb && data[pos + 2] === 0xbf) pos += 3;
    const decoded = decodeText(data, pos, data.length);
    message = decoded.text;
    messageValid = decoded.valid;
  }

  const parsed: ParsedMessage = {
    format: 'rfc5424',
    facility: pri.facility,
    severity: pri.severity,
    message,
    invalidUtf8: !messageValid || !sd.valid,
  };
  if (timestamp !== undefined) parsed.timestamp = timestamp;
  if (host !== undefined) parsed.host = host;
  if (app !== undefined) parsed.app = app;
  if (procId !== undefined) parsed.procId = procId;
  if (msgId !== undefined) parsed.msgId = msgId;
  if (sd.sd !== undefined) parsed.sd = sd.sd;
  return parsed;
}
