import type { OwaspLevel, Severity } from '../events';
import type { KeyKind } from './config-types';
import type { EvidenceRef } from './windows';

export type { EvidenceRef } from './windows';

/**
 * What an alert is about. The fields of its kind are set; `host`, `app` and `instance` name the source for
 * a `source` key, and for an `ip` or `account` key of a rule keyed per source (`perSource`) the source that
 * reported it (the target): then one `value` can have one open alert per source.
 */
export interface AlertKey {
  kind: KeyKind | 'detector';
  /** Canonical and unique across kinds: `ip:203.0.113.7`, `email:<emailId>`, `user:<id>`, `source:<host>/<instance>`. */
  value: string;
  ip?: string;
  emailId?: string;
  emailMasked?: string;
  userId?: string;
  host?: string;
  /** Absent for a source known only from RFC 3164 or raw records. */
  instance?: string;
  app?: string;
}

export type AlertState = 'open' | 'closed';

/**
 * One incident: opened when a rule first matches for a key, updated (count grows) while matches go on,
 * closed after a quiet period. Ten thousand failed logins are one alert with count 10000.
 */
export interface Alert {
  /** UUID, assigned when the alert opens; a store may keep its own row id beside it. */
  id: string;
  ruleId: string;
  /** What the alert stands for, in the event vocabulary where one fits (`authn_login_fail_max`). */
  type: string;
  title: string;
  /** RFC 5424 severity of the alert (0 emergency .. 7 debug). */
  severity: Severity;
  level: OwaspLevel;
  key: AlertKey;
  state: AlertState;
  /** ISO 8601 UTC: time of the first and latest matching record. */
  firstAt: string;
  lastAt: string;
  /** Matching events folded into this alert (the events that opened it plus every repeat). */
  count: number;
  /** 0 when opened, +1 per update or close sent to subscribers: a store can upsert by (id, revision). */
  revision: number;
  /** Records behind the alert, bounded: the first ones and the latest ones. */
  records: EvidenceRef[];
  /** Short, neutralised description of what was seen. */
  summary: string;
  /** ISO 8601 UTC, set once closed. */
  closedAt?: string;
}

export type AlertChangeKind = 'alert' | 'alert-update' | 'alert-close';

/** A change sent to subscribers: an alert opened, its count changed, or it closed. */
export interface AlertChange {
  kind: AlertChangeKind;
  alert: Alert;
}
