import type { CollectedRecord } from '../collector/record';
import type { AuditEvent } from '../events';
import { capNeutralised, hasUnsafeChars, neutralise } from '../sanitize';
import type { AlertKey } from './alert';
import type { KeyKind } from './config-types';

/** An event may claim to be this far ahead of its receipt (clock skew); beyond, the receipt time counts. */
export const MAX_FUTURE_SKEW_MS = 60_000;

/** Length cap for any record text placed in an alert. */
export const DETAIL_MAX = 200;

/**
 * Record text made safe for an alert. Our own events arrive neutralised already (escaping again would
 * double every backslash), so only text that still holds unsafe characters is neutralised; all is capped.
 */
export function safeText(value: string, maxLength = DETAIL_MAX): string {
  // A hostile sender can put a number or an object where a string belongs.
  const text = typeof value === 'string' ? value : String(value);
  return hasUnsafeChars(text) ? neutralise(text, maxLength) : capNeutralised(text, maxLength);
}

/**
 * One record as the rules see it. The detector reuses a single view (rules run synchronously), and the
 * record's time is parsed only when a windowed rule asks for it.
 */
export class RecordView {
  record!: CollectedRecord;
  event: AuditEvent | undefined;
  private time = Number.NaN;
  private scope: string | undefined;

  constructor(
    private readonly timeSource: 'event' | 'received',
    private readonly clock: () => number,
  ) {}

  reset(record: CollectedRecord): this {
    this.record = record;
    this.event = record.event;
    this.time = Number.NaN;
    this.scope = undefined;
    return this;
  }

  /** The reporting source as a key suffix, for rules keyed per source (built once per record, on demand). */
  get sourceScope(): string {
    if (this.scope === undefined) {
      const source = reportingSource(this.record);
      this.scope = `\u0000${capKeyPart(source.host)}\u0000${capKeyPart(source.app)}\u0000${capKeyPart(source.instance ?? '')}`;
    }
    return this.scope;
  }

  /**
   * When it happened (ms): the event's time (so a replayed spool counts as it happened), else when the
   * collector received it, else now. An event time far ahead of its receipt is a wrong clock: receipt wins.
   */
  get timeMs(): number {
    if (Number.isNaN(this.time)) {
      const received = Date.parse(this.record.receivedAt);
      let time = this.timeSource === 'event' && this.event !== undefined ? Date.parse(this.event.time) : Number.NaN;
      if (Number.isNaN(time) || time > received + MAX_FUTURE_SKEW_MS) time = received;
      if (Number.isNaN(time)) time = this.clock();
      this.time = time;
    }
    return this.time;
  }
}

/** The canonical key value of an event for one key kind, or undefined when the event lacks it. */
export function eventKeyValue(kind: KeyKind, event: AuditEvent): string | undefined {
  switch (kind) {
    case 'ip':
      return event.who.ip ? `ip:${event.who.ip}` : undefined;
    case 'account':
      if (event.who.emailId) return `email:${event.who.emailId}`;
      return event.who.userId ? `user:${event.who.userId}` : undefined;
    case 'source':
      return `source:${event.host}/${event.instance}`;
  }
}

/** The first key kind the event has, with its value. */
export function pickEventKey(kinds: readonly KeyKind[], event: AuditEvent): { kind: KeyKind; value: string } | undefined {
  for (const kind of kinds) {
    const value = eventKeyValue(kind, event);
    if (value !== undefined) return { kind, value };
  }
  return undefined;
}

/** The full key of an alert about an event (built only when an alert opens or folds). */
export function eventAlertKey(kind: KeyKind, value: string, event: AuditEvent): AlertKey {
  const key: AlertKey = { kind, value: safeText(value, 300) };
  if (kind === 'ip' && event.who.ip) key.ip = safeText(event.who.ip, 64);
  if (kind === 'account') {
    if (event.who.emailId) key.emailId = safeText(event.who.emailId, 64);
    if (event.who.emailMasked) key.emailMasked = safeText(event.who.emailMasked, 128);
    if (event.who.userId) key.userId = safeText(event.who.userId, 64);
  }
  if (kind === 'source') {
    key.host = safeText(event.host, 255);
    key.instance = safeText(event.instance, 128);
    key.app = safeText(event.app, 48);
  }
  return key;
}

/** Where a record came from: host, app and instance of an a09 event; host (or peer address) and app of a raw record. */
export function reportingSource(record: CollectedRecord): { host: string; app: string; instance?: string } {
  const event = record.event;
  if (event !== undefined) return { host: event.host, app: event.app, instance: event.instance };
  return { host: record.host ?? record.peer.replace(/:\d+$/, ''), app: record.app ?? '-' };
}

/** Bounds one part of a window or alert-book key (a hostile sender controls a raw record's host and app). */
function capKeyPart(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 300 ? text.slice(0, 300) : text;
}

/** Name the reporting source on an alert key (rules keyed per source): the key says whom and where. */
export function withReportingSource(key: AlertKey, record: CollectedRecord): AlertKey {
  const source = reportingSource(record);
  key.host = safeText(source.host, 255);
  key.app = safeText(source.app, 48);
  if (source.instance !== undefined) key.instance = safeText(source.instance, 128);
  return key;
}

export function sourceAlertKey(host: string, instance: string, app: string): AlertKey {
  return {
    kind: 'source',
    value: safeText(`source:${host}/${instance}`, 300),
    host: safeText(host, 255),
    instance: safeText(instance, 128),
    app: safeText(app, 48),
  };
}

const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/;

/**
 * The key of a record that is not ours (RFC 3164 or raw): an IPv4 address in its text when there is one
 * and an `ip` key is wanted (a web log line names the client first), else the sending host.
 */
export function rawAlertKey(kinds: readonly KeyKind[], record: CollectedRecord): AlertKey {
  if (kinds.includes('ip')) {
    const found = IPV4.exec(record.message);
    if (found !== null) return { kind: 'ip', value: `ip:${found[0]}`, ip: found[0] };
  }
  const host = record.host ?? record.peer.replace(/:\d+$/, '');
  const safeHost = safeText(host, 255);
  return { kind: 'source', value: `source:${safeHost}/-`, host: safeHost, app: safeText(record.app ?? '-', 48) };
}

/** A short line about an event for an alert: who, what, where. */
export function describeEvent(event: AuditEvent): string {
  const parts: string[] = [event.type];
  if (event.outcome !== 'info') parts.push(event.outcome);
  const where = event.where;
  if (where.method || where.url || where.route) parts.push(`${where.method ?? ''} ${where.url ?? where.route ?? ''}`.trim());
  if (where.status !== undefined) parts.push(`-> ${where.status}`);
  const who = event.who;
  if (who.ip) parts.push(`from ${who.ip}`);
  if (who.emailMasked || who.userId) parts.push(`account ${who.emailMasked ?? `user ${who.userId}`}`);
  return safeText(parts.join(' '));
}

export function describeRaw(record: CollectedRecord): string {
  return safeText(`${record.format} record from ${record.host ?? record.peer}: ${record.message}`);
}

/** ` at app@host (instance i)` for an address or account key that names its reporting source. */
function atSource(key: AlertKey): string {
  if (key.host === undefined) return '';
  return ` at ${key.app ?? '-'}@${key.host}${key.instance !== undefined ? ` (instance ${key.instance})` : ''}`;
}

/** A readable label for a key, for summaries. */
export function keyLabel(key: AlertKey): string {
  switch (key.kind) {
    case 'ip':
      return `address ${key.ip ?? key.value}${atSource(key)}`;
    case 'account':
      return `${key.emailMasked ? `account ${key.emailMasked}` : key.userId ? `user ${key.userId}` : key.value}${atSource(key)}`;
    case 'source':
      return `source ${key.host ?? '?'}${key.instance ? ` (instance ${key.instance})` : ''}`;
    default:
      return key.value;
  }
}
