import type { AuditEvent } from '../events';
import { DEFAULT_MAX_LENGTH, HEADER_FIELD_LIMITS, capNeutralised, encodeHeaderField, encodeSdValue, hasUnsafeChars, toJsonLine } from '../sanitize';

/** Our private enterprise SD-ID (RFC 5424 section 7.2.2 form `name@<PEN>`). */
export const AUDIT_SD_ID = 'a09@32473';

/** RFC 5424 facility 13: log audit. */
export const FACILITY_LOG_AUDIT = 13;

export interface Rfc5424Options {
  /** 0..23; default 13 (log audit). */
  facility?: number;
  /** PROCID; default process.pid. */
  procId?: string;
}

/** TIMESTAMP must be RFC 3339; anything else is sent as the NILVALUE rather than break the header. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

const PID = String(process.pid);

const SD_SPECIAL = /["\\\]]/g;

/** What either step below would change: neutralise's characters (backslash included) and the SD specials. */
const SD_ANY = /[\u0000-\u001f\u007f-\u009f\\"\]\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;

/**
 * A PARAM-VALUE. Text with a raw control, separator or bidi character is neutralised (encodeSdValue);
 * text without one (every string of a sanitized event) is only capped and RFC-escaped, so what
 * sanitizeEvent already escaped is not escaped twice, exactly as toJsonLine treats the MSG.
 */
function sdValue(value: string): string {
  // Most values (ids, addresses, routes) have nothing to escape or cut: one test.
  if (value.length <= DEFAULT_MAX_LENGTH && !SD_ANY.test(value)) return value;
  if (hasUnsafeChars(value)) return encodeSdValue(value);
  return capNeutralised(value, DEFAULT_MAX_LENGTH).replace(SD_SPECIAL, '\\$&');
}

function param(name: string, value: string | number | undefined): string {
  if (value === undefined || value === '') return '';
  return ` ${name}="${sdValue(String(value))}"`;
}

/**
 * One RFC 5424 message for an audit event:
 * `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [a09@32473 ...][meta sequenceId="N"] MSG`.
 * PRI = facility * 8 + severity; MSGID is the event type; the SD element carries the fields a collector
 * filters on (absent ones omitted), `meta sequenceId` the event's seq; MSG is the whole event as one line of
 * printable-ASCII JSON (the collector takes the event from MSG). Every field goes through its encoder, so
 * no value can end the message, forge a header or break out of a PARAM-VALUE.
 */
/** The last HOSTNAME APP-NAME PROCID encoded: a source sends the same three in every message. */
let lastHeader = { host: '', app: '', procId: '', encoded: '' };
/** MSGID by event type (a few dozen types; bounded all the same). */
const msgIds = new Map<string, string>();

function headerFields(host: string, app: string, procId: string): string {
  const last = lastHeader;
  if (last.host === host && last.app === app && last.procId === procId && last.encoded !== '') return last.encoded;
  const encoded =
    `${encodeHeaderField(host, HEADER_FIELD_LIMITS.HOSTNAME)} ` +
    `${encodeHeaderField(app, HEADER_FIELD_LIMITS.APP_NAME)} ` +
    `${encodeHeaderField(procId, HEADER_FIELD_LIMITS.PROCID)}`;
  lastHeader = { host, app, procId, encoded };
  return encoded;
}

function msgId(type: string): string {
  let encoded = msgIds.get(type);
  if (encoded === undefined) {
    encoded = encodeHeaderField(type, HEADER_FIELD_LIMITS.MSGID);
    if (msgIds.size >= 256) msgIds.clear();
    msgIds.set(type, encoded);
  }
  return encoded;
}

export function formatRfc5424(event: AuditEvent, options: Rfc5424Options = {}): string {
  const facility = options.facility ?? FACILITY_LOG_AUDIT;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new RangeError(`facility ${facility} is not 0..23`);
  const severity = Number.isInteger(event.severity) && event.severity >= 0 && event.severity <= 7 ? event.severity : 5;
  const timestamp = RFC3339.test(event.time) ? event.time : '-';
  const who = event.who ?? {};
  const where = event.where ?? {};
  const sd =
    `[${AUDIT_SD_ID}` +
    param('instance', event.instance) +
    param('level', event.level) +
    param('outcome', event.outcome) +
    param('reason', event.reason) +
    param('userId', who.userId) +
    param('emailId', who.emailId) +
    param('emailMasked', who.emailMasked) +
    param('ip', who.ip) +
    param('method', where.method) +
    param('route', where.route) +
    param('url', where.url) +
    param('requestId', where.requestId) +
    param('status', where.status) +
    `][meta sequenceId="${Number.isSafeInteger(event.seq) ? event.seq : 0}"]`;
  return (
    `<${facility * 8 + severity}>1 ${timestamp} ` +
    `${headerFields(String(event.host), String(event.app), options.procId ?? PID)} ` +
    `${msgId(String(event.type))} ` +
    `${sd} ${toJsonLine(event)}`
  );
}
