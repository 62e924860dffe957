import type { CollectedRecord, SequenceGap } from '../collector/record';
import type { Alert, AlertChange, AlertChangeKind } from './alert';
import { AlertBook } from './alert-book';
import { defaultDetectionConfig } from './config';
import type { DetectionConfig, RuleConfig } from './config-types';
import { RecordView, safeText } from './record-view';
import { type CompiledRule, type RuleRuntime, type RuleStats, compileRule } from './rules';

export interface DetectorOptions {
  /** The clock (ms since the epoch) for rate limits, quiet periods and silence; default Date.now. */
  now?: () => number;
}

export interface DetectorStats {
  records: number;
  /** Records without an event (RFC 3164, raw). */
  rawRecords: number;
  gaps: number;
  alerts: { open: number; opened: number; updates: number; closed: number; evicted: number };
  rules: Record<string, RuleStats>;
  /** Subscriber callbacks that threw (detection carried on). */
  listenerErrors: number;
  /** Records, gaps or ticks a rule failed on (a malformed record from a hostile sender); detection carried on. */
  ruleErrors: number;
}

export type AlertListener = (alert: Alert) => void;
export type ChangeListener = (change: AlertChange) => void;

/**
 * The real-time detection engine. The collector hands it each stored record and each sequence gap;
 * call tick() about once a second for silence, held-back updates, quiet alerts and window expiry.
 * Each call returns the alerts it opened, updated or closed; subscribers get the same as a stream.
 */
export interface Detector {
  readonly config: DetectionConfig;
  onRecord(record: CollectedRecord): Alert[];
  onGap(gap: SequenceGap): Alert[];
  tick(nowMs?: number): Alert[];
  /** 'alert' for a new alert, 'alert-update' when its count grew (rate-limited), 'alert-close'. Returns an unsubscribe function. */
  on(kind: AlertChangeKind, listener: AlertListener): () => void;
  off(kind: AlertChangeKind, listener: AlertListener): void;
  /** Every change, in order. Returns an unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  /** Snapshots of the open alerts, least recently active first. */
  openAlerts(): Alert[];
  stats(): DetectorStats;
}

/** Alerts about the detector itself: a flood of keys pushed live windows out (it was being blinded). */
const CAPACITY_RULE: RuleConfig = {
  id: 'detector_capacity',
  kind: 'immediate',
  enabled: true,
  title: 'Detection windows overflowed: keys with live windows were evicted',
  description: 'More distinct addresses or accounts than maxKeysPerRule were active at once; some counts were lost.',
  references: ['OWASP Top 10 A09 (monitoring that can be flooded blind)'],
  alert: 'sys_monitor_disabled',
  severity: 2,
  level: 'CRITICAL',
  key: ['source'],
  match: {},
};

class DetectionEngine implements Detector {
  private readonly clock: () => number;
  private readonly book: AlertBook;
  private readonly rules: CompiledRule[];
  private readonly byType = new Map<string, CompiledRule[]>();
  private readonly rawRules: CompiledRule[];
  private readonly observers: CompiledRule[];
  private readonly gapRules: CompiledRule[];
  private readonly view: RecordView;
  private readonly listeners = new Map<AlertChangeKind, Set<AlertListener>>();
  private readonly changeListeners = new Set<ChangeListener>();
  private counters = { records: 0, rawRecords: 0, gaps: 0, listenerErrors: 0, ruleErrors: 0 };
  /** The time of the tick in progress: rules and alert book use it instead of the clock. */
  private tickNow: number | undefined;
  /** Live evictions not yet reported, by rule. */
  private pendingCapacity = new Map<string, number>();
  private capacityMatches = 0;

  constructor(
    readonly config: DetectionConfig,
    options: DetectorOptions,
  ) {
    const clock = options.now ?? Date.now;
    this.clock = () => this.tickNow ?? clock();
    const settings = config.settings;
    this.book = new AlertBook(
      { maxOpenAlerts: settings.maxOpenAlerts, maxEvidence: settings.maxEvidence, updateIntervalMs: settings.updateIntervalMs, quietMs: settings.quietMs },
      (change) => this.deliver(change),
    );
    const runtime: RuleRuntime = {
      book: this.book,
      clock: this.clock,
      settings,
      onLiveEviction: (ruleId) => {
        if (settings.capacityAlert) this.pendingCapacity.set(ruleId, (this.pendingCapacity.get(ruleId) ?? 0) + 1);
      },
    };
    this.rules = config.rules.filter((rule) => rule.enabled).map((rule) => compileRule(rule, runtime));
    for (const rule of this.rules) {
      for (const type of rule.eventTypes) {
        const list = this.byType.get(type);
        if (list === undefined) this.byType.set(type, [rule]);
        else list.push(rule);
      }
    }
    this.rawRules = this.rules.filter((rule) => rule.acceptsRaw);
    this.observers = this.rules.filter((rule) => rule.observe !== undefined);
    this.gapRules = this.rules.filter((rule) => rule.onGap !== undefined);
    this.view = new RecordView(settings.timeSource, this.clock);
  }

  onRecord(record: CollectedRecord): Alert[] {
    const outer = this.book.begin();
    this.counters.records++;
    const view = this.view.reset(record);
    const event = record.event;
    try {
      if (event !== undefined) {
        for (let i = 0; i < this.observers.length; i++) (this.observers[i].observe as (view: RecordView) => void)(view);
        const rules = this.byType.get(event.type);
        if (rules !== undefined) for (let i = 0; i < rules.length; i++) rules[i].onEvent(view);
      } else {
        this.counters.rawRecords++;
        for (let i = 0; i < this.rawRules.length; i++) this.rawRules[i].onRaw(view);
      }
      if (this.pendingCapacity.size > 0) this.reportCapacity(view.timeMs);
    } catch {
      // The collector's ingest must never fail on detection: count it and carry on.
      this.counters.ruleErrors++;
    }
    return this.book.end(outer);
  }

  onGap(gap: SequenceGap): Alert[] {
    const outer = this.book.begin();
    this.counters.gaps++;
    try {
      for (const rule of this.gapRules) (rule.onGap as (gap: SequenceGap) => void)(gap);
    } catch {
      this.counters.ruleErrors++;
    }
    return this.book.end(outer);
  }

  tick(nowMs?: number): Alert[] {
    const now = nowMs ?? this.clock();
    const outer = this.book.begin();
    this.tickNow = now;
    try {
      for (const rule of this.rules) rule.tick(now);
      this.book.tick(now, (alert) => this.rules.some((rule) => rule.config.id === alert.ruleId && rule.keepsOpen(alert)));
    } catch {
      this.counters.ruleErrors++;
    } finally {
      this.tickNow = undefined;
    }
    return this.book.end(outer);
  }

  on(kind: AlertChangeKind, listener: AlertListener): () => void {
    let set = this.listeners.get(kind);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(kind, set);
    }
    set.add(listener);
    return () => this.off(kind, listener);
  }

  off(kind: AlertChangeKind, listener: AlertListener): void {
    this.listeners.get(kind)?.delete(listener);
  }

  subscribe(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  openAlerts(): Alert[] {
    return this.book.list();
  }

  stats(): DetectorStats {
    const rules: Record<string, RuleStats> = {};
    for (const rule of this.rules) rules[rule.config.id] = rule.stats();
    if (this.config.settings.capacityAlert) {
      rules[CAPACITY_RULE.id] = { kind: 'immediate', matches: this.capacityMatches, keys: 0, evictions: 0, liveEvictions: 0, windowBytes: 0 };
    }
    return {
      ...this.counters,
      alerts: { open: this.book.openCount, opened: this.book.opened, updates: this.book.updatesSent, closed: this.book.closed, evicted: this.book.evicted },
      rules,
    };
  }

  private reportCapacity(atMs: number): void {
    let total = 0;
    const parts: string[] = [];
    for (const [ruleId, count] of this.pendingCapacity) {
      total += count;
      parts.push(`${ruleId} ${count}`);
    }
    this.pendingCapacity.clear();
    this.capacityMatches++;
    const cap = this.config.settings.maxKeysPerRule;
    this.book.report(
      {
        rule: CAPACITY_RULE,
        type: CAPACITY_RULE.alert,
        key: { kind: 'detector', value: 'detector:windows' },
        atMs,
        openCount: total,
        repeatCount: total,
        openRefs: () => [],
        latest: undefined,
        detail: safeText(`live keys evicted (maxKeysPerRule ${cap}): ${parts.join(', ')}`),
      },
      this.clock(),
      (alert, detail) => `${alert.count} live window keys evicted; latest: ${detail}`,
    );
  }

  /** Subscribers never break detection: a throwing listener is counted and skipped. */
  private deliver(change: AlertChange): void {
    const set = this.listeners.get(change.kind);
    if (set !== undefined) {
      for (const listener of set) {
        try {
          listener(change.alert);
        } catch {
          this.counters.listenerErrors++;
        }
      }
    }
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch {
        this.counters.listenerErrors++;
      }
    }
  }
}

/** A detector for a validated configuration (default: the shipped rules). */
export function createDetector(config: DetectionConfig = defaultDetectionConfig(), options: DetectorOptions = {}): Detector {
  return new DetectionEngine(config, options);
}
