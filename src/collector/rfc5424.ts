import { isUtf8 } from 'node:buffer';
import { checkStructuredData } from './structured-data';
import { SP, type Pri } from './syntax';

/**
 * RFC 5424 on a Buffer:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`.
 * Header fields are printable US-ASCII with RFC maximum lengths, `-` is NILVALUE. SD-PARAM values are
 * unescaped (`\"`, `\\`, `\]`; a backslash before anything else stays). A BOM opening MSG is dropped.
 * Returns undefined when the frame breaks the syntax: the caller keeps it as a raw record.
 *
 * The frame is checked where it lies and described by offsets: nothing is decoded here. The store copies
 * header, SD and MSG bytes into its rows as they are; strings are made only for what needs them (MSG, to
 * read our event; the rest when a record is built for a listener or a test).
 */

const DASH = 0x2d;
const OPEN = 0x5b;

/** TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID. */
const FIELD_LIMITS = [48, 255, 48, 128, 32];

/** The SD-ID of our events (parse.ts A09_SD_ID), as bytes. */
export const A09_SD_ID_BYTES = Buffer.from('a09@32473', 'latin1');

/** Where the parts of an RFC 5424 frame lie in it. A NILVALUE field has start = end = -1. */
export interface Rfc5424Layout {
  facility: number;
  severity: number;
  /** Start and end of TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, in pairs (10 numbers). */
  fields: number[];
  /** STRUCTURED-DATA from its first `[` to after its last `]`; -1 when it is `-`. */
  sdStart: number;
  sdEnd: number;
  /** SD holds bytes >= 0x80. */
  sdNonAscii: boolean;
  /** SD is valid UTF-8. */
  sdValid: boolean;
  /** SD has an element with SD-ID `a09@32473`. */
  sdHasA09: boolean;
  /** MSG (after SP and an optional BOM) up to the end of the frame; start = end when there is none. */
  messageStart: number;
}

function isDigitAt(data: Uint8Array, pos: number): boolean {
  const byte = data[pos];
  return byte >= 0x30 && byte <= 0x39;
}

function digits(data: Uint8Array, pos: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (!isDigitAt(data, pos + i)) return false;
  return true;
}

/** `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|+hh:mm|-hh:mm)` filling [start, end) exactly. */
export function isTimestamp(data: Uint8Array, start: number, end: number): boolean {
  if (end - start < 20) return false;
  if (!digits(data, start, 4) || data[start + 4] !== DASH || !digits(data, start + 5, 2) || data[start + 7] !== DASH) return false;
  if (!digits(data, start + 8, 2) || data[start + 10] !== 0x54 || !digits(data, start + 11, 2) || data[start + 13] !== 0x3a) return false;
  if (!digits(data, start + 14, 2) || data[start + 16] !== 0x3a || !digits(data, start + 17, 2)) return false;
  let pos = start + 19;
  if (data[pos] === 0x2e) {
    pos++;
    const from = pos;
    while (pos < end && pos - from < 10 && isDigitAt(data, pos)) pos++;
    if (pos === from || pos - from > 9) return false;
  }
  if (pos === end - 1) return data[pos] === 0x5a;
  if (pos !== end - 6) return false;
  const sign = data[pos];
  return (sign === 0x2b || sign === DASH) && digits(data, pos + 1, 2) && data[pos + 3] === 0x3a && digits(data, pos + 4, 2);
}

export function parseRfc5424(data: Buffer, pri: Pri): Rfc5424Layout | undefined {
  // VERSION must be 1, then SP.
  if (data[pri.end] !== 0x31 || data[pri.end + 1] !== SP) return undefined;

  // Five fields of printable ASCII, each ended by SP.
  const fields: number[] = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1];
  const length = data.length;
  let pos = pri.end + 2;
  for (let field = 0; field < 5; field++) {
    const start = pos;
    const limit = Math.min(length, start + FIELD_LIMITS[field] + 1);
    while (pos < limit) {
      const byte = data[pos];
      if (byte === SP) break;
      if (byte < 0x21 || byte > 0x7e) return undefined;
      pos++;
    }
    if (pos === start || pos - start > FIELD_LIMITS[field] || pos >= length || data[pos] !== SP) return undefined;
    if (pos - start !== 1 || data[start] !== DASH) {
      fields[field * 2] = start;
      fields[field * 2 + 1] = pos;
    }
    pos++;
  }
  if (fields[0] >= 0 && !isTimestamp(data, fields[0], fields[1])) return undefined;

  let sdStart = -1;
  let sdEnd = -1;
  let sdNonAscii = false;
  let sdValid = true;
  let sdHasA09 = false;
  if (data[pos] === DASH) {
    pos++;
  } else if (data[pos] === OPEN) {
    const extent = checkStructuredData(data, pos, A09_SD_ID_BYTES);
    if (extent === undefined) return undefined;
    sdStart = pos;
    sdEnd = extent.end;
    sdNonAscii = extent.nonAscii;
    sdValid = !sdNonAscii || isUtf8(data.subarray(sdStart, sdEnd));
    sdHasA09 = extent.hasWanted;
    pos = extent.end;
  } else {
    return undefined;
  }

  let messageStart = length;
  if (pos < length) {
    if (data[pos] !== SP) return undefined;
    pos++;
    // MSG-UTF8 starts with a BOM (RFC 5424 6.4): it marks the encoding and is not part of the text.
    if (data[pos] === 0xef && data[pos + 1] === 0xbb && data[pos + 2] === 0xbf) pos += 3;
    messageStart = Math.min(pos, length);
  }
  return { facility: pri.facility, severity: pri.severity, fields, sdStart, sdEnd, sdNonAscii, sdValid, sdHasA09, messageStart };
}
