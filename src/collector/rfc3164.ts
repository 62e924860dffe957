import { decodeText, type ParsedMessage, type Pri } from './syntax';

/**
 * RFC 3164 (BSD syslog), as senders really write it:
 * `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`. winston-syslog 2.7.1 (glossy's BSD producer) writes exactly
 * `<134>Nov 27 20:25:17 localhost juice-shop[6662]: {...}`, in local time without a year, and leaves HOSTNAME
 * out altogether when its `localhost` option is empty (`<131>Nov 27 20:25:17 node[6662]: ...`). rsyslog's
 * forwarding format puts an RFC 3339 timestamp where the BSD one goes; that is accepted too. Without a
 * timestamp the whole rest is MSG (RFC 3164 4.3.3). Only PRI is required.
 */

const BSD_TIMESTAMP = /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: \d|\d{1,2}) \d{2}:\d{2}:\d{2}(?= )/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})(?= )/;
/** TAG (program name, RFC 3164 allows 32, real ones run longer) with an optional `[pid]`, then `:`. */
const TAG = /^([^\s[\]:]{1,64})(?:\[([^\s\]]{1,128})\])?:$/;
const HOSTNAME = /^[\x21-\x7e]{1,255}$/;

export function parseRfc3164(data: Buffer, pri: Pri): ParsedMessage {
  // The header is ASCII; read enough of it as latin1 to match the timestamp without decoding the whole frame.
  const head = data.toString('latin1', pri.end, Math.min(data.length, pri.end + 40));
  const parsed: ParsedMessage = { format: 'rfc3164', facility: pri.facility, severity: pri.severity, message: '', invalidUtf8: false };
  const stamp = BSD_TIMESTAMP.exec(head) ?? ISO_TIMESTAMP.exec(head);
  if (stamp === null) {
    const all = decodeText(data, pri.end, data.length);
    parsed.message = all.text;
    parsed.invalidUtf8 = !all.valid;
    return parsed;
  }
  parsed.timestamp = stamp[0];
  const rest = decodeText(data, pri.end + stamp[0].length + 1, data.length);
  parsed.invalidUtf8 = !rest.valid;
  let text = rest.text;

  // HOSTNAME unless the first word already is the TAG (sender left HOSTNAME out).
  let space = text.indexOf(' ');
  let word = space === -1 ? text : text.slice(0, space);
  if (!TAG.test(word) && HOSTNAME.test(word) && space !== -1) {
    parsed.host = word;
    text = text.slice(space + 1);
    space = text.indexOf(' ');
    word = space === -1 ? text : text.slice(0, space);
  }
  const tag = TAG.exec(word);
  if (tag !== null) {
    parsed.app = tag[1];
    if (tag[2] !== undefined) parsed.procId = tag[2];
    text = space === -1 ? '' : text.slice(space + 1);
  }
  parsed.message = text;
  return parsed;
}
