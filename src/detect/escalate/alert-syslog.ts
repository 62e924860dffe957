import { hostname } from 'node:os';
import { HEADER_FIELD_LIMITS, encodeHeaderField, encodeSdValue, toJsonLine } from '../../sanitize';
import type { AlertChange } from '../alert';

/** SD-ID of forwarded alerts: apart from `a09@32473` so that no collector mistakes an alert for an event. */
export const ALERT_SD_ID = 'a09alert@32473';

/** RFC 5424 severity 1: "alert: action must be taken immediately". */
export const SYSLOG_SEVERITY_ALERT = 1;

export interface AlertSyslogOptions {
  /** 0..23; default 13 (log audit). */
  facility?: number;
  /** HOSTNAME; default the machine's host name. */
  host?: string;
  /** APP-NAME; default `a09-detect`. */
  app?: string;
  /** PROCID; default process.pid. */
  procId?: string;
  /** TIMESTAMP (ms); default now. */
  nowMs?: number;
}

function param(name: string, value: string | number | undefined): string {
  if (value === undefined || value === '') return '';
  return ` ${name}="${encodeSdValue(String(value), 512)}"`;
}

/**
 * An alert change as one RFC 5424 message at severity 1 (alert), whatever the alert's own severity
 * (that travels in the SD as `severity`):
 * `<PRI>1 TIMESTAMP HOST a09-detect PROCID <alert type> [a09alert@32473 id= rule= ...] <JSON>`.
 * Every field goes through the sanitize encoders, so no text an attacker put in a record can end the
 * message, forge a header or break out of a PARAM-VALUE; MSG is pure printable-ASCII JSON.
 */
export function formatAlertRfc5424(change: AlertChange, options: AlertSyslogOptions = {}): string {
  const facility = options.facility ?? 13;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new RangeError(`facility ${facility} is not 0..23`);
  const alert = change.alert;
  const key = alert.key;
  const sd =
    `[${ALERT_SD_ID}` +
    param('change', change.kind) +
    param('id', alert.id) +
    param('rule', alert.ruleId) +
    param('severity', alert.severity) +
    param('level', alert.level) +
    param('state', alert.state) +
    param('count', alert.count) +
    param('revision', alert.revision) +
    param('keyKind', key.kind) +
    param('key', key.value) +
    param('ip', key.ip) +
    param('emailId', key.emailId) +
    param('emailMasked', key.emailMasked) +
    param('userId', key.userId) +
    param('sourceHost', key.host) +
    param('instance', key.instance) +
    param('first', alert.firstAt) +
    param('last', alert.lastAt) +
    ']';
  const timestamp = new Date(options.nowMs ?? Date.now()).toISOString();
  return (
    `<${facility * 8 + SYSLOG_SEVERITY_ALERT}>1 ${timestamp} ` +
    `${encodeHeaderField(options.host ?? hostname(), HEADER_FIELD_LIMITS.HOSTNAME)} ` +
    `${encodeHeaderField(options.app ?? 'a09-detect', HEADER_FIELD_LIMITS.APP_NAME)} ` +
    `${encodeHeaderField(options.procId ?? String(process.pid), HEADER_FIELD_LIMITS.PROCID)} ` +
    `${encodeHeaderField(alert.type, HEADER_FIELD_LIMITS.MSGID)} ` +
    `${sd} ${toJsonLine({ change: change.kind, title: alert.title, summary: alert.summary, alert })}`
  );
}
