import type { OwaspLevel, Severity } from '../events';

/** What a rule's windows and alerts are keyed by. */
export type KeyKind = 'ip' | 'account' | 'source';

export type RuleKind = 'immediate' | 'threshold' | 'distinct' | 'sequence' | 'silence' | 'gap';

/** Which records a rule looks at. Every condition given must hold. */
export interface MatchConfig {
  /** Event types; `prefix_*` matches a family, `*` all. */
  types?: string[];
  outcomes?: string[];
  /** HTTP status range, inclusive (where.status). */
  status?: { min: number; max: number };
  /** Regular expressions (case-insensitive), any of which must match the route or URL (also URL-decoded). */
  url?: string[];
  /** Regular expressions (case-insensitive), any of which must match the user agent. */
  userAgent?: string[];
  /**
   * Also run on records without an event (RFC 3164 and raw messages): their message text is tested against
   * the url and userAgent patterns; the other conditions do not apply to them.
   */
  raw?: boolean;
}

export interface RuleConfig {
  id: string;
  kind: RuleKind;
  enabled: boolean;
  title: string;
  description?: string;
  /** Where the rule comes from (Wazuh rule ids, AppSensor detection points). */
  references: string[];
  /** What the alert stands for; `$type` takes the matching event's type. */
  alert: string;
  severity: Severity;
  level: OwaspLevel;
  /** Key kinds in order of preference: the first the record has is used. */
  key: KeyKind[];
  /**
   * Key per reporting source too: one window and one alert per (key, source that logged the record), where
   * the source is host + app + instance of an a09 event, or host + app of a raw record. One attacker
   * hitting three applications opens three alerts, each linked to its own application's records.
   * Absent or false: one alert per key across all sources.
   */
  perSource?: boolean;
  match: MatchConfig;
  /** threshold, distinct and sequence rules. */
  windowMs?: number;
  /** threshold: events; distinct: distinct values; sequence: earlier events required. */
  threshold?: number;
  /** distinct: what is counted per key. */
  distinct?: KeyKind;
  /** sequence: the earlier events (the rule's `match` is the event that completes it). */
  after?: MatchConfig;
  /** silence: how often sources send heartbeats, unless the heartbeat says (detail.intervalMs). */
  intervalMs?: number;
  /** silence: tolerated lateness on top of the interval. */
  graceMs?: number;
}

export interface DetectionSettings {
  /** Keys kept per windowed rule; the least recently used is evicted past it. */
  maxKeysPerRule: number;
  /** Alerts kept open at once; the least recently active is closed past it. */
  maxOpenAlerts: number;
  /** Record references kept per alert (the first half and the latest half). */
  maxEvidence: number;
  /** At most one 'alert-update' per alert per interval; tick() sends what was held back. */
  updateIntervalMs: number;
  /** An alert with no new match for this long is closed. */
  quietMs: number;
  /** Window times: the event's own time (replays count right) or when the collector received it. */
  timeSource: 'event' | 'received';
  /** Sources watched for silence, at most. */
  maxSources: number;
  /** Raise an alert when a flood of keys evicts keys whose windows were still live. */
  capacityAlert: boolean;
}

export interface DetectionConfig {
  version: 1;
  settings: DetectionSettings;
  rules: RuleConfig[];
}
