import { randomUUID } from 'node:crypto';
import type { Alert, AlertChange, AlertChangeKind, AlertKey } from './alert';
import type { RuleConfig } from './config-types';
import { LruSlots } from './slots';
import type { EvidenceRef } from './windows';

/** A rule's finding, handed to the book: it opens an alert or folds into the open one. */
export interface Finding {
  rule: RuleConfig;
  /** The alert type (the rule's, or the event's type for `$type` rules). */
  type: string;
  key: AlertKey;
  /** Rules keyed per source: the reporting source, so one key seen at two sources is two alerts. */
  scope?: string;
  /** Time of the matching record (ms). */
  atMs: number;
  /** Events to count when this finding opens the alert (the window's events); a repeat counts `repeatCount`. */
  openCount: number;
  repeatCount: number;
  /** References for a new alert (the window's events); a repeat adds only `latest`. */
  openRefs: () => EvidenceRef[];
  latest: EvidenceRef | undefined;
  /** Neutralised, short: what this record showed. */
  detail: string;
}

interface OpenAlert {
  bookKey: string;
  alert: Alert;
  /** Detector clock (ms) of the last finding: the quiet period counts from here. */
  activeAt: number;
  /** Detector clock (ms) of the last change sent. */
  sentAt: number;
  /** Count changed since the last change sent. */
  dirty: boolean;
  head: EvidenceRef[];
  tail: EvidenceRef[];
  tailNext: number;
  lastAtMs: number;
  lastDetail: string;
  /** Builds the summary when a change is sent (not on every repeat: floods fold cheaply). */
  summarise: Summariser;
}

/** The alert's summary from the alert (count, key) and the latest record's detail. */
export type Summariser = (alert: Alert, detail: string) => string;

export interface AlertBookOptions {
  maxOpenAlerts: number;
  maxEvidence: number;
  updateIntervalMs: number;
  quietMs: number;
}

/**
 * Alert suppression: one open alert per (rule, type, key), and per reporting source for rules keyed per
 * source. Findings fold into it; subscribers get
 * 'alert' once, 'alert-update' at most once per update interval while the count grows (tick() sends
 * what was held back), and 'alert-close' after the quiet period.
 */
export class AlertBook {
  /** Open alerts by (rule, type, key), in activity order: the oldest slot is the quietest alert. */
  private readonly slots: LruSlots;
  private readonly entries: (OpenAlert | undefined)[] = [];
  private readonly headSize: number;
  private readonly tailSize: number;
  /** Changes of the current call, returned to the caller of onRecord/onGap/tick. */
  private collected: Alert[] = [];
  opened = 0;
  updatesSent = 0;
  closed = 0;
  /** Open alerts closed early to stay within maxOpenAlerts. */
  evicted = 0;

  constructor(
    private readonly options: AlertBookOptions,
    private readonly send: (change: AlertChange) => void,
  ) {
    this.headSize = Math.ceil(options.maxEvidence / 2);
    this.tailSize = options.maxEvidence - this.headSize;
    this.slots = new LruSlots(options.maxOpenAlerts, (slot) => {
      // Past maxOpenAlerts the quietest alert is closed early to make room.
      const quietest = this.entries[slot] as OpenAlert;
      this.entries[slot] = undefined;
      this.evicted++;
      this.closeEntry(quietest, this.nowMs);
    });
  }

  /** The clock of the call in progress (for closes caused by eviction). */
  private nowMs = 0;

  get openCount(): number {
    return this.slots.size;
  }

  private entry(bookKey: string): OpenAlert | undefined {
    const slot = this.slots.peek(bookKey);
    return slot === undefined ? undefined : this.entries[slot];
  }

  /** Open entries, quietest first. */
  private openEntries(): OpenAlert[] {
    const list: OpenAlert[] = [];
    for (let slot = this.slots.oldest; slot >= 0; slot = this.slots.newer(slot)) list.push(this.entries[slot] as OpenAlert);
    return list;
  }

  /** Start collecting the alerts changed by one call; returns the outer call's list (a listener may re-enter). */
  begin(): Alert[] {
    const outer = this.collected;
    this.collected = [];
    return outer;
  }

  /** The alerts changed since begin(), restoring the outer call's list. */
  end(outer: Alert[]): Alert[] {
    const alerts = this.collected;
    this.collected = outer;
    return alerts;
  }

  static bookKey(ruleId: string, type: string, keyValue: string): string {
    return `${ruleId}\u0000${type}\u0000${keyValue}`;
  }

  isOpen(ruleId: string, type: string, keyValue: string): boolean {
    return this.slots.peek(AlertBook.bookKey(ruleId, type, keyValue)) !== undefined;
  }

  /** The open alert of a rule and key, as a snapshot. */
  find(ruleId: string, type: string, keyValue: string): Alert | undefined {
    const entry = this.entry(AlertBook.bookKey(ruleId, type, keyValue));
    return entry === undefined ? undefined : this.snapshot(entry);
  }

  /** Open or fold. `nowMs` is the detector clock. */
  report(finding: Finding, nowMs: number, summarise: Summariser): void {
    this.nowMs = nowMs;
    const bookKey = AlertBook.bookKey(finding.rule.id, finding.type, finding.scope === undefined ? finding.key.value : finding.key.value + finding.scope);
    const existing = this.entry(bookKey);
    if (existing !== undefined) {
      const alert = existing.alert;
      alert.count += finding.repeatCount;
      if (finding.atMs > existing.lastAtMs) {
        existing.lastAtMs = finding.atMs;
        alert.lastAt = new Date(finding.atMs).toISOString();
      }
      if (finding.latest !== undefined) this.addRef(existing, finding.latest);
      existing.lastDetail = finding.detail;
      existing.activeAt = nowMs;
      existing.dirty = true;
      this.slots.touch(bookKey);
      if (nowMs - existing.sentAt >= this.options.updateIntervalMs) this.sendChange('alert-update', existing, nowMs);
      return;
    }
    const at = new Date(finding.atMs).toISOString();
    const alert: Alert = {
      id: randomUUID(),
      ruleId: finding.rule.id,
      type: finding.type,
      title: finding.rule.title.replace('{type}', finding.type),
      severity: finding.rule.severity,
      level: finding.rule.level,
      key: finding.key,
      state: 'open',
      firstAt: at,
      lastAt: at,
      count: finding.openCount,
      revision: 0,
      records: [],
      summary: '',
    };
    const entry: OpenAlert = {
      bookKey,
      alert,
      activeAt: nowMs,
      sentAt: nowMs,
      dirty: false,
      head: [],
      tail: [],
      tailNext: 0,
      lastAtMs: finding.atMs,
      lastDetail: finding.detail,
      summarise,
    };
    for (const ref of finding.openRefs()) this.addRef(entry, ref);
    this.entries[this.slots.touch(bookKey)] = entry;
    this.opened++;
    this.sendChange('alert', entry, nowMs);
  }

  /** Close an alert now (a silent source that came back). */
  closeNow(ruleId: string, type: string, keyValue: string, nowMs: number, detail?: string): void {
    const bookKey = AlertBook.bookKey(ruleId, type, keyValue);
    const entry = this.entry(bookKey);
    if (entry === undefined) return;
    this.remove(entry);
    if (detail !== undefined) entry.lastDetail = detail;
    this.closeEntry(entry, nowMs);
  }

  /**
   * Send held-back updates whose interval has passed and close alerts quiet for `quietMs`.
   * `keepOpen` names alerts that stay open while quiet (a silent source is quiet by nature).
   */
  tick(nowMs: number, keepOpen: (alert: Alert) => boolean): void {
    this.nowMs = nowMs;
    for (const entry of this.openEntries()) {
      if (nowMs - entry.activeAt >= this.options.quietMs && !keepOpen(entry.alert)) {
        this.remove(entry);
        this.closeEntry(entry, nowMs);
      } else if (entry.dirty && nowMs - entry.sentAt >= this.options.updateIntervalMs) {
        this.sendChange('alert-update', entry, nowMs);
      }
    }
  }

  /** Snapshots of the open alerts, quietest first. */
  list(): Alert[] {
    return this.openEntries().map((entry) => this.snapshot(entry));
  }

  private remove(entry: OpenAlert): void {
    const slot = this.slots.peek(entry.bookKey);
    if (slot === undefined) return;
    this.entries[slot] = undefined;
    this.slots.delete(entry.bookKey);
  }

  private closeEntry(entry: OpenAlert, nowMs: number): void {
    entry.alert.state = 'closed';
    entry.alert.closedAt = new Date(nowMs).toISOString();
    this.closed++;
    this.sendChange('alert-close', entry, nowMs);
  }

  private addRef(entry: OpenAlert, ref: EvidenceRef): void {
    if (entry.head.length < this.headSize) {
      entry.head.push(ref);
    } else if (this.tailSize > 0) {
      if (entry.tail.length < this.tailSize) entry.tail.push(ref);
      else entry.tail[entry.tailNext] = ref;
      entry.tailNext = (entry.tailNext + 1) % this.tailSize;
    }
  }

  private snapshot(entry: OpenAlert): Alert {
    entry.alert.summary = entry.summarise(entry.alert, entry.lastDetail);
    const tail = entry.tail.length < this.tailSize ? entry.tail : [...entry.tail.slice(entry.tailNext), ...entry.tail.slice(0, entry.tailNext)];
    return {
      ...entry.alert,
      key: { ...entry.alert.key },
      records: [...entry.head, ...tail].map((ref) => ({ ...ref })),
    };
  }

  private sendChange(kind: AlertChangeKind, entry: OpenAlert, nowMs: number): void {
    if (kind !== 'alert') {
      entry.alert.revision++;
      if (kind === 'alert-update') this.updatesSent++;
    }
    entry.sentAt = nowMs;
    entry.dirty = false;
    const alert = this.snapshot(entry);
    this.collected.push(alert);
    this.send({ kind, alert });
  }
}
