import type { AuditEvent } from '../events';
import type { AlertWatcher, ApiAlertDetail, ApiRecord, CollectorClient } from './collector-client';
import { belongsTo, type Target } from './target';
import type { AlertEvidence } from './types';

/** Timing of the wait for records and alerts after an attack. */
export interface SettleOptions {
  /** Alert types a fixed target is expected to raise: the wait ends early once all arrived. */
  expectAlerts?: readonly string[];
  /** How long to wait for expected alerts after the last request (default 3 s). */
  alertWaitMs?: number;
  /** Extra wait when an alert of an expected type was already open (its update is held back up to 5 s). */
  heldUpdateWaitMs?: number;
  /** Records stop arriving for this long: the target is done logging (default 400 ms). */
  quietMs?: number;
  /** At least this long after the last request (default 700 ms). */
  minWaitMs?: number;
  /** At most this long for records (default 8 s). */
  maxRecordWaitMs?: number;
  /** Other addresses whose events belong to this scenario (tools that cannot choose their source). */
  alsoFrom?: readonly string[];
  /**
   * Requests the attack sent: a target that sends a09 events records each as an http_request, so the
   * wait goes on (up to maxRecordWaitMs) until that many arrived, however slow the machine.
   */
  expectRequests?: number;
}

/** What the collector holds from one target for one scenario. */
export interface WindowView {
  records: ApiRecord[];
  events: AuditEvent[];
  alerts: AlertEvidence[];
  /** First attack request (epoch ms). */
  startedAt: number;
  ofType(type: string): AuditEvent[];
  recordIdsOf(type?: string): number[];
  alertsOfType(type: string): AlertEvidence[];
  /** Raw records (no event) whose text contains `text`. */
  rawContaining(text: string): ApiRecord[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function makeView(records: ApiRecord[], alerts: AlertEvidence[], startedAt: number): WindowView {
  const events = records.flatMap((record) => (record.event === undefined ? [] : [record.event]));
  return {
    records,
    events,
    alerts,
    startedAt,
    ofType: (type) => events.filter((event) => event.type === type),
    recordIdsOf: (type) => records.filter((record) => type === undefined || record.event?.type === type).map((record) => record.id),
    alertsOfType: (type) => alerts.filter((alert) => alert.type === type),
    rawContaining: (text) => records.filter((record) => record.event === undefined && (record.message ?? '').includes(text)),
  };
}

function toEvidence(detail: ApiAlertDetail, change: 'alert' | 'alert-update', afterMs: number | undefined): AlertEvidence {
  const alert = detail.alert;
  return {
    id: alert.id,
    type: alert.type,
    title: alert.title,
    ruleId: alert.ruleId,
    level: alert.level,
    severity: alert.severity,
    key: alert.key.value,
    count: alert.count,
    change,
    ...(afterMs !== undefined && { afterMs: Math.max(0, afterMs) }),
  };
}

/**
 * Collects one target's records and the alerts linked to them, for one scenario: records after `cursor`
 * from the target's sources, and alerts whose linked records include one of them.
 */
export class TargetWindow {
  private records: ApiRecord[] = [];
  private lastId: number;
  private readonly alsoFrom = new Set<string>();

  constructor(
    readonly target: Target,
    private readonly collector: CollectorClient,
    private readonly watcher: AlertWatcher | undefined,
    readonly cursor: number,
    /** The attacker's own address for this scenario: events from other addresses belong to other scenarios. */
    private readonly address?: string,
  ) {
    this.lastId = cursor;
  }

  /** Fetch what arrived since the last call; returns how many of the target's records were new. */
  async refresh(): Promise<number> {
    if (this.target.sources.length === 0) return 0;
    const fresh = await this.collector.recordsAfter(this.lastId);
    if (fresh.length > 0) this.lastId = fresh[fresh.length - 1]!.id;
    const ours = (ip: string | undefined): boolean => this.address === undefined || ip === undefined || ip === this.address || this.alsoFrom.has(ip);
    const mine = fresh.filter((record) => belongsTo(this.target, record) && ours(record.event?.who.ip));
    this.records.push(...mine);
    return mine.length;
  }

  private idSet(): Set<number> {
    return new Set(this.records.map((record) => record.id));
  }

  /** Alert changes seen on the stream since `since` that point at one of this window's records. */
  private streamLinked(since: number): Array<{ id: string; type: string; kind: 'alert' | 'alert-update'; receivedAt: number }> {
    const ids = this.idSet();
    const out: Array<{ id: string; type: string; kind: 'alert' | 'alert-update'; receivedAt: number }> = [];
    for (const seen of this.watcher?.changes() ?? []) {
      if (seen.receivedAt < since) continue;
      if (seen.alert.records.some((ref) => ids.has(ref.recordId))) out.push({ id: seen.alert.id, type: seen.alert.type, kind: seen.kind, receivedAt: seen.receivedAt });
    }
    return out;
  }

  /**
   * Wait for the target to finish logging the attack and for the expected alerts, then read what is
   * linked. `startedAt` and `lastRequestAt` are the attack's first and last request (epoch ms).
   */
  async settle(startedAt: number, lastRequestAt: number, options: SettleOptions = {}): Promise<WindowView> {
    for (const address of options.alsoFrom ?? []) this.alsoFrom.add(address);
    const quietMs = options.quietMs ?? 400;
    const minUntil = lastRequestAt + (options.minWaitMs ?? 700);
    const recordDeadline = lastRequestAt + (options.maxRecordWaitMs ?? 8000);
    let lastNew = Date.now();
    const hasEvents = this.target.sources.some((source) => source.format === 'event');
    const requestsIn = (): number => this.records.filter((record) => record.event?.type === 'http_request').length;
    if (this.target.sources.length > 0) {
      for (;;) {
        if ((await this.refresh()) > 0) lastNew = Date.now();
        const now = Date.now();
        const allRequests = !hasEvents || requestsIn() >= (options.expectRequests ?? 0);
        if ((now >= minUntil && now - lastNew >= quietMs && allRequests) || now >= recordDeadline) break;
        await sleep(150);
      }
    } else {
      await sleep(Math.max(0, minUntil - Date.now()));
    }

    const expected = options.expectAlerts ?? [];
    if (this.watcher !== undefined && this.records.length > 0) {
      // Records from a non-a09 source can only match the few rules that read raw text: a short wait.
      const waitMs = hasEvents && expected.length > 0 ? (options.alertWaitMs ?? 3000) : 800;
      const until = lastRequestAt + waitMs;
      const allExpected = (): boolean => {
        const types = new Set(this.streamLinked(startedAt).map((change) => change.type));
        return expected.length > 0 && expected.every((type) => types.has(type));
      };
      await this.watcher.waitFor(allExpected, Math.max(0, until - Date.now()));
      if (hasEvents && expected.length > 0 && !allExpected()) {
        // An alert already open folds new matches into held-back updates (at most every updateIntervalMs).
        const open = await this.collector.alertsSince(new Date(startedAt - 3_600_000).toISOString(), 500).catch(() => []);
        const heldBack = open.some((alert) => alert.state === 'open' && expected.includes(alert.type) && Date.parse(alert.firstAt) < startedAt);
        if (heldBack) {
          await this.refresh();
          await this.watcher.waitFor(allExpected, options.heldUpdateWaitMs ?? 7000);
        }
      }
      await this.refresh();
    }
    return makeView([...this.records], await this.linkedAlerts(startedAt), startedAt);
  }

  /** Every alert linked to the window's records: from the stream (timed) and the REST API (complete). */
  private async linkedAlerts(startedAt: number): Promise<AlertEvidence[]> {
    if (this.records.length === 0) return [];
    const ids = this.idSet();
    const firstSeen = new Map<string, { kind: 'alert' | 'alert-update'; receivedAt: number }>();
    for (const change of this.streamLinked(startedAt)) if (!firstSeen.has(change.id)) firstSeen.set(change.id, change);
    const candidates = new Set(firstSeen.keys());
    // Alerts whose stream frames did not show our records (bounded evidence lists), or no stream at all.
    const since = new Date(startedAt - 60_000).toISOString();
    for (const alert of await this.collector.alertsSince(since, 300)) candidates.add(alert.id);
    const out: AlertEvidence[] = [];
    for (const id of [...candidates].slice(0, 150)) {
      const detail = await this.collector.alertDetail(id);
      if (detail === undefined || !detail.records.some((ref) => ids.has(ref.recordId))) continue;
      const seen = firstSeen.get(id);
      let change: 'alert' | 'alert-update' = Date.parse(detail.alert.firstAt) >= startedAt - 1000 ? 'alert' : 'alert-update';
      let afterMs: number | undefined;
      if (seen !== undefined) {
        change = seen.kind;
        afterMs = seen.receivedAt - startedAt;
      } else {
        const stored = detail.changes.map((c) => Date.parse(c.at)).filter((at) => at >= startedAt).sort((a, b) => a - b)[0];
        if (stored !== undefined) afterMs = stored - startedAt;
      }
      out.push(toEvidence(detail, change, afterMs));
    }
    return out.sort((a, b) => (a.afterMs ?? Infinity) - (b.afterMs ?? Infinity));
  }
}
