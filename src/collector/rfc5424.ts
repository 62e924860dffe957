import { isUtf8 } from 'node:buffer';
import { parseStructuredData, scanStructuredData } from './structured-data';
import { SP, decodeText, type ParsedMessage, type Pri } from './syntax';

/**
 * RFC 5424 on a Buffer:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`.
 * Header fields are printable US-ASCII with RFC maximum lengths, `-` is NILVALUE. SD-PARAM values are
 * unescaped (`\"`, `\\`, `\]`; a backslash before anything else stays). A BOM opening MSG is dropped.
 * Returns undefined when the frame breaks the syntax: the caller keeps it as a raw record.
 * The header is decoded once and cut into fields, the SD once and parsed as text: few Buffer-to-string
 * conversions per message, which is what parsing costs at 100k messages a second.
 */

const DASH = 0x2d;
const OPEN = 0x5b;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID. */
const FIELD_LIMITS = [48, 255, 48, 128, 32];

export function parseRfc5424(data: Buffer, pri: Pri): ParsedMessage | undefined {
  // VERSION must be 1, then SP.
  const headerStart = pri.end + 2;
  if (data[pri.end] !== 0x31 || data[pri.end + 1] !== SP) return undefined;

  // Five fields of printable ASCII, each ended by SP.
  const ends: number[] = [0, 0, 0, 0, 0];
  let pos = headerStart;
  for (let field = 0; field < 5; field++) {
    const start = pos;
    const limit = Math.min(data.length, start + FIELD_LIMITS[field] + 1);
    while (pos < limit) {
      const byte = data[pos];
      if (byte === SP) break;
      if (byte < 0x21 || byte > 0x7e) return undefined;
      pos++;
    }
    if (pos === start || pos - start > FIELD_LIMITS[field] || pos >= data.length || data[pos] !== SP) return undefined;
    ends[field] = pos;
    pos++;
  }
  const header = data.toString('latin1', headerStart, ends[4]);
  const fields: Array<string | undefined> = [];
  let from = 0;
  for (let field = 0; field < 5; field++) {
    const to = ends[field] - headerStart;
    fields.push(to - from === 1 && header.charCodeAt(from) === DASH ? undefined : header.slice(from, to));
    from = to + 1;
  }
  const timestamp = fields[0];
  if (timestamp !== undefined && !TIMESTAMP.test(timestamp)) return undefined;

  let sdText: string | undefined;
  let sdValid = true;
  if (data[pos] === DASH) {
    pos++;
  } else if (data[pos] === OPEN) {
    const extent = scanStructuredData(data, pos);
    if (extent === undefined) return undefined;
    if (extent.nonAscii) {
      const region = data.subarray(pos, extent.end);
      sdText = region.toString('utf8');
      sdValid = isUtf8(region);
    } else {
      sdText = data.toString('latin1', pos, extent.end);
    }
    pos = extent.end;
  } else {
    return undefined;
  }
  const sd = sdText === undefined ? undefined : parseStructuredData(sdText);
  if (sdText !== undefined && sd === undefined) return undefined;

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
    invalidUtf8: !messageValid || !sdValid,
  };
  if (timestamp !== undefined) parsed.timestamp = timestamp;
  if (fields[1] !== undefined) parsed.host = fields[1];
  if (fields[2] !== undefined) parsed.app = fields[2];
  if (fields[3] !== undefined) parsed.procId = fields[3];
  if (fields[4] !== undefined) parsed.msgId = fields[4];
  if (sd !== undefined && sdText !== undefined) {
    parsed.sd = sd;
    parsed.sdText = sdText;
  }
  return parsed;
}
