import type { SequenceGap } from '../collector/record';
import type { AuditEvent } from '../events';
import type { Alert, AlertKey } from './alert';
import type { AlertBook, Finding, Summariser } from './alert-book';
import { expandTypes } from './config';
import type { DetectionSettings, MatchConfig, RuleConfig } from './config-types';
import { PatternSet, matchUrl } from './patterns';
import {
  type RecordView,
  describeEvent,
  describeRaw,
  eventAlertKey,
  eventKeyValue,
  keyLabel,
  pickEventKey,
  rawAlertKey,
  safeText,
  sourceAlertKey,
  withReportingSource,
} from './record-view';
import { DistinctWindows, type EvidenceRef, ThresholdWindows } from './windows';

/** What rules share with the detector. */
export interface RuleRuntime {
  book: AlertBook;
  /** The detector clock (ms). */
  clock: () => number;
  settings: DetectionSettings;
  /** A windowed rule evicted a key whose window still held events. */
  onLiveEviction: (ruleId: string) => void;
}

export interface RuleStats {
  kind: RuleConfig['kind'];
  /** Findings reported to the alert book (openings and repeats). */
  matches: number;
  /** Keys held in the rule's windows (or sources watched). */
  keys: number;
  evictions: number;
  /** Evicted keys whose windows still held events. */
  liveEvictions: number;
  /** Bytes of typed-array storage allocated for windows. */
  windowBytes: number;
}

/** The conditions of a match block other than the event type (dispatch handles types). */
export class EventFilter {
  private readonly outcomes: ReadonlySet<string> | undefined;
  private readonly url: PatternSet | undefined;
  private readonly userAgent: PatternSet | undefined;

  constructor(private readonly match: MatchConfig) {
    this.outcomes = match.outcomes ? new Set(match.outcomes) : undefined;
    this.url = match.url ? new PatternSet(match.url) : undefined;
    this.userAgent = match.userAgent ? new PatternSet(match.userAgent) : undefined;
  }

  accepts(event: AuditEvent): boolean {
    if (this.outcomes !== undefined && !this.outcomes.has(event.outcome)) return false;
    const status = this.match.status;
    if (status !== undefined) {
      const code = event.where.status;
      if (code === undefined || code < status.min || code > status.max) return false;
    }
    if (this.url !== undefined) {
      const url = event.where.url ?? event.where.route;
      if (typeof url !== 'string' || matchUrl(this.url, url) === undefined) return false;
    }
    if (this.userAgent !== undefined) {
      const agent = event.who.userAgent;
      if (typeof agent !== 'string' || !this.userAgent.test(agent)) return false;
    }
    return true;
  }

  /** Raw records: the message against the url and user-agent patterns. */
  acceptsText(text: string): boolean {
    return (this.url !== undefined && matchUrl(this.url, text) !== undefined) || (this.userAgent !== undefined && this.userAgent.test(text));
  }

  /** Which pattern matched, for the evidence (only called when reporting). */
  note(event: AuditEvent | undefined, text: string | undefined): string {
    const notes: string[] = [];
    const url = event !== undefined ? (event.where.url ?? event.where.route) : text;
    if (this.url !== undefined && url !== undefined) {
      const matched = matchUrl(this.url, url);
      const which = matched !== undefined ? this.url.which(matched) : undefined;
      if (which !== undefined) notes.push(`url matched /${which}/`);
    }
    const agent = event !== undefined ? event.who.userAgent : text;
    if (this.userAgent !== undefined && agent !== undefined) {
      const which = this.userAgent.which(agent);
      if (which !== undefined) notes.push(`agent matched /${which}/${event !== undefined ? ` (${agent})` : ''}`);
    }
    return notes.length > 0 ? safeText(` [${notes.join('; ')}]`) : '';
  }
}

function refOf(view: RecordView): EvidenceRef {
  return { recordId: view.record.id, seq: view.event?.seq ?? 0 };
}

/** A compiled rule: the detector dispatches records to it by event type. */
export abstract class CompiledRule {
  matches = 0;
  /** Event types this rule wants (dispatch index). */
  abstract readonly eventTypes: readonly string[];
  /** Whether records without an event go to onRaw. */
  readonly acceptsRaw: boolean = false;
  protected readonly summarise: Summariser;
  /** Windows and alerts keyed per reporting source too (the rule's `perSource`). */
  protected readonly perSource: boolean;

  constructor(
    readonly config: RuleConfig,
    protected readonly runtime: RuleRuntime,
  ) {
    this.summarise = (alert, detail) => `${this.condition(alert)}; latest: ${detail}`;
    this.perSource = config.perSource === true;
  }

  /** A record's window key: the key value, plus its reporting source for a rule keyed per source. */
  protected windowKey(value: string, view: RecordView): string {
    return this.perSource ? value + view.sourceScope : value;
  }

  onEvent(_view: RecordView): void {}
  onRaw(_view: RecordView): void {}
  /** Every event (the silence rule watches all traffic). */
  observe?(view: RecordView): void;
  onGap?(gap: SequenceGap): void;
  /** Periodic work: forget expired windows, notice silence. */
  tick(_clockMs: number): void {}
  /** Whether an open alert of this rule stays open through the quiet period. */
  keepsOpen(_alert: Alert): boolean {
    return false;
  }

  stats(): RuleStats {
    return { kind: this.config.kind, matches: this.matches, keys: 0, evictions: 0, liveEvictions: 0, windowBytes: 0 };
  }

  /** The first part of the summary: what the rule saw, for whom. */
  protected condition(alert: Alert): string {
    return `${alert.count} matching event${alert.count === 1 ? '' : 's'} for ${keyLabel(alert.key)}`;
  }

  protected alertType(event: AuditEvent | undefined): string {
    if (this.config.alert !== '$type') return this.config.alert;
    return event !== undefined ? event.type : this.config.id;
  }

  protected report(
    type: string,
    key: AlertKey,
    atMs: number,
    openCount: number,
    repeatCount: number,
    openRefs: () => EvidenceRef[],
    latest: EvidenceRef | undefined,
    detail: string,
    /** The matching record: a rule keyed per source files the finding under its reporting source. */
    view?: RecordView,
  ): void {
    this.matches++;
    const finding: Finding = { rule: this.config, type, key, atMs, openCount, repeatCount, openRefs, latest, detail };
    if (this.perSource && view !== undefined) {
      finding.scope = view.sourceScope;
      withReportingSource(key, view.record);
    }
    this.runtime.book.report(finding, this.runtime.clock(), this.summarise);
  }
}

/** Alert at once on any matching record. */
class ImmediateRule extends CompiledRule {
  readonly eventTypes: readonly string[];
  override readonly acceptsRaw: boolean;
  private readonly filter: EventFilter;

  constructor(config: RuleConfig, runtime: RuleRuntime) {
    super(config, runtime);
    this.eventTypes = expandTypes(config.match.types ?? []);
    this.acceptsRaw = config.match.raw === true;
    this.filter = new EventFilter(config.match);
  }

  override onEvent(view: RecordView): void {
    const event = view.event as AuditEvent;
    if (!this.filter.accepts(event)) return;
    const key = pickEventKey(this.config.key, event);
    if (key === undefined) return;
    const ref = refOf(view);
    this.report(this.alertType(event), eventAlertKey(key.kind, key.value, event), view.timeMs, 1, 1, () => [ref], ref, describeEvent(event) + this.filter.note(event, undefined), view);
  }

  override onRaw(view: RecordView): void {
    const message = view.record.message;
    if (!this.filter.acceptsText(message)) return;
    const ref = refOf(view);
    this.report(this.alertType(undefined), rawAlertKey(this.config.key, view.record), view.timeMs, 1, 1, () => [ref], ref, describeRaw(view.record) + this.filter.note(undefined, message), view);
  }
}

function windowLabel(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}

/** What the counting rules share: their event types and filter, keyed windows, expiry and statistics. */
abstract class WindowedRule<W extends ThresholdWindows | DistinctWindows> extends CompiledRule {
  readonly eventTypes: readonly string[];
  protected readonly filter: EventFilter;
  protected readonly windows: W;

  constructor(config: RuleConfig, runtime: RuleRuntime, Windows: new (capacity: number, threshold: number, windowMs: number, onLiveEviction: () => void, clock: () => number) => W) {
    super(config, runtime);
    this.eventTypes = expandTypes(config.match.types ?? []);
    this.filter = new EventFilter(config.match);
    this.windows = new Windows(runtime.settings.maxKeysPerRule, config.threshold as number, config.windowMs as number, () => runtime.onLiveEviction(config.id), runtime.clock);
  }

  override tick(clockMs: number): void {
    this.windows.expire(clockMs);
  }

  override stats(): RuleStats {
    return { ...super.stats(), keys: this.windows.size, evictions: this.windows.evictions, liveEvictions: this.windows.liveEvictions, windowBytes: this.windows.allocatedBytes };
  }
}

/** `threshold` matching events for one key within `windowMs`, then every further one folds in. */
class ThresholdRule extends WindowedRule<ThresholdWindows> {
  constructor(config: RuleConfig, runtime: RuleRuntime) {
    super(config, runtime, ThresholdWindows);
  }

  override onEvent(view: RecordView): void {
    const event = view.event as AuditEvent;
    if (!this.filter.accepts(event)) return;
    const key = pickEventKey(this.config.key, event);
    if (key === undefined) return;
    const windows = this.windows;
    const slot = windows.add(this.windowKey(key.value, view), view.timeMs, view.record.id, event.seq);
    if (!windows.reached(slot)) return;
    this.report(
      this.alertType(event),
      eventAlertKey(key.kind, key.value, event),
      view.timeMs,
      windows.threshold,
      1,
      () => windows.refs(slot),
      refOf(view),
      describeEvent(event) + this.filter.note(event, undefined),
      view,
    );
  }

  protected override condition(alert: Alert): string {
    const types = (this.config.match.types ?? []).join('/');
    const status = this.config.match.status ? ` (status ${this.config.match.status.min}-${this.config.match.status.max})` : '';
    return `${alert.count} ${types}${status} for ${keyLabel(alert.key)}, threshold ${this.config.threshold} in ${windowLabel(this.config.windowMs as number)}`;
  }
}

/** `threshold` distinct values (accounts) for one key (address) within `windowMs`. */
class DistinctRule extends WindowedRule<DistinctWindows> {
  constructor(config: RuleConfig, runtime: RuleRuntime) {
    super(config, runtime, DistinctWindows);
  }

  override onEvent(view: RecordView): void {
    const event = view.event as AuditEvent;
    if (!this.filter.accepts(event)) return;
    const key = pickEventKey(this.config.key, event);
    if (key === undefined) return;
    const value = eventKeyValue(this.config.distinct as 'ip' | 'account' | 'source', event);
    if (value === undefined) return;
    const windows = this.windows;
    const distinct = windows.add(this.windowKey(key.value, view), value, view.timeMs, view.record.id, event.seq);
    if (distinct < windows.threshold) return;
    const slot = windows.lastSlot;
    this.report(
      this.alertType(event),
      eventAlertKey(key.kind, key.value, event),
      view.timeMs,
      windows.threshold,
      1,
      () => windows.refs(slot),
      refOf(view),
      describeEvent(event),
      view,
    );
  }

  protected override condition(alert: Alert): string {
    const types = (this.config.match.types ?? []).join('/');
    return `${alert.count} ${types} for ${keyLabel(alert.key)} on at least ${this.config.threshold} distinct ${this.config.distinct} values within ${windowLabel(this.config.windowMs as number)}`;
  }
}

/**
 * A completing event (a successful login) for a key that had `threshold` earlier events (failed logins)
 * within `windowMs` before it (Wazuh 40112). The earlier events start over once it fired.
 */
class SequenceRule extends CompiledRule {
  readonly eventTypes: readonly string[];
  private readonly afterTypes: ReadonlySet<string>;
  private readonly thenTypes: ReadonlySet<string>;
  private readonly afterFilter: EventFilter;
  private readonly thenFilter: EventFilter;
  private readonly windows: ThresholdWindows;

  constructor(config: RuleConfig, runtime: RuleRuntime) {
    super(config, runtime);
    const after = config.after as MatchConfig;
    this.afterTypes = new Set(expandTypes(after.types ?? []));
    this.thenTypes = new Set(expandTypes(config.match.types ?? []));
    this.eventTypes = [...new Set([...this.afterTypes, ...this.thenTypes])];
    this.afterFilter = new EventFilter(after);
    this.thenFilter = new EventFilter(config.match);
    this.windows = new ThresholdWindows(runtime.settings.maxKeysPerRule, config.threshold as number, config.windowMs as number, () =>
      runtime.onLiveEviction(config.id),
      runtime.clock,
    );
  }

  override onEvent(view: RecordView): void {
    const event = view.event as AuditEvent;
    if (this.thenTypes.has(event.type) && this.thenFilter.accepts(event)) this.complete(view, event);
    if (this.afterTypes.has(event.type) && this.afterFilter.accepts(event)) {
      const key = pickEventKey(this.config.key, event);
      if (key !== undefined) this.windows.add(this.windowKey(key.value, view), view.timeMs, view.record.id, event.seq);
    }
  }

  private complete(view: RecordView, event: AuditEvent): void {
    const key = pickEventKey(this.config.key, event);
    if (key === undefined) return;
    const windows = this.windows;
    const slot = windows.find(this.windowKey(key.value, view));
    if (slot === undefined || windows.countWithin(slot, view.timeMs) < windows.threshold) return;
    const ref = refOf(view);
    const earlier = windows.refs(slot);
    windows.reset(slot);
    const events = windows.threshold + 1;
    this.report(this.alertType(event), eventAlertKey(key.kind, key.value, event), view.timeMs, events, events, () => [...earlier, ref], ref, describeEvent(event), view);
  }

  protected override condition(alert: Alert): string {
    const after = (this.config.after?.types ?? []).join('/');
    return `${(this.config.match.types ?? []).join('/')} for ${keyLabel(alert.key)} after at least ${this.config.threshold} ${after} within ${windowLabel(this.config.windowMs as number)} (${alert.count} events)`;
  }

  override tick(clockMs: number): void {
    this.windows.expire(clockMs);
  }

  override stats(): RuleStats {
    return { ...super.stats(), keys: this.windows.size, evictions: this.windows.evictions, liveEvictions: this.windows.liveEvictions, windowBytes: this.windows.allocatedBytes };
  }
}

interface WatchedSource {
  host: string;
  instance: string;
  app: string;
  /** Detector clock (ms) when anything last came from it. */
  lastSeenMs: number;
  intervalMs: number;
  silent: boolean;
  keyValue: string;
}

/**
 * A source that sends heartbeats and then sends nothing for longer than its interval plus grace.
 * Sources are watched from their first sys_heartbeat (a source that never heartbeats cannot be told
 * apart from one that has nothing to say) until their sys_shutdown. The heartbeat's detail.intervalMs
 * (or heartbeatMs) overrides the configured interval.
 */
class SilenceRule extends CompiledRule {
  readonly eventTypes: readonly string[] = [];
  private readonly sources = new Map<string, WatchedSource>();
  private evictions = 0;
  private last: WatchedSource | undefined;

  override observe(view: RecordView): void {
    const event = view.event as AuditEvent;
    let source = this.last !== undefined && this.last.instance === event.instance && this.last.host === event.host ? this.last : this.sources.get(event.instance);
    if (source !== undefined && source.host !== event.host) source = undefined;
    const now = this.runtime.clock();
    if (event.type === 'sys_heartbeat') {
      const advertised = event.detail.intervalMs ?? event.detail.heartbeatMs;
      const intervalMs = typeof advertised === 'number' && advertised > 0 ? advertised : (this.config.intervalMs as number);
      if (source === undefined) {
        source = { host: event.host, instance: event.instance, app: event.app, lastSeenMs: now, intervalMs, silent: false, keyValue: '' };
        source.keyValue = sourceAlertKey(source.host, source.instance, source.app).value;
        this.watch(source);
      }
      source.intervalMs = intervalMs;
    } else if (event.type === 'sys_shutdown' && source !== undefined) {
      this.sources.delete(source.instance);
      this.last = undefined;
      this.resume(source, now, 'source shut down');
      return;
    }
    if (source === undefined) return;
    this.last = source;
    if (source.silent) this.resume(source, now, 'source resumed');
    source.lastSeenMs = now;
  }

  private watch(source: WatchedSource): void {
    if (this.sources.size >= this.runtime.settings.maxSources) {
      const oldest = this.sources.keys().next().value as string;
      this.sources.delete(oldest);
      this.evictions++;
    }
    this.sources.set(source.instance, source);
  }

  private resume(source: WatchedSource, now: number, why: string): void {
    if (!source.silent) return;
    source.silent = false;
    this.runtime.book.closeNow(this.config.id, this.config.alert, source.keyValue, now, safeText(`${why} after ${Math.round((now - source.lastSeenMs) / 1000)} s`));
  }

  override tick(clockMs: number): void {
    const grace = this.config.graceMs ?? 0;
    for (const source of this.sources.values()) {
      if (source.silent) continue;
      const quietFor = clockMs - source.lastSeenMs;
      if (quietFor <= source.intervalMs + grace) continue;
      source.silent = true;
      this.report(
        this.config.alert,
        sourceAlertKey(source.host, source.instance, source.app),
        clockMs,
        1,
        1,
        () => [],
        undefined,
        safeText(`nothing from ${source.host} (${source.app}, instance ${source.instance}) for ${Math.round(quietFor / 1000)} s; heartbeat interval ${Math.round(source.intervalMs / 1000)} s`),
      );
    }
  }

  override keepsOpen(alert: Alert): boolean {
    const source = alert.key.instance !== undefined ? this.sources.get(alert.key.instance) : undefined;
    return source?.silent === true;
  }

  protected override condition(alert: Alert): string {
    return `${keyLabel(alert.key)} went silent`;
  }

  override stats(): RuleStats {
    return { ...super.stats(), keys: this.sources.size, evictions: this.evictions };
  }
}

/** A hole in a source's sequence numbers, reported by the collector. */
class GapRule extends CompiledRule {
  readonly eventTypes: readonly string[] = [];

  override onGap(gap: SequenceGap): void {
    const lost = gap.to - gap.from + 1;
    const detected = Date.parse(gap.detectedAt);
    const atMs = Number.isNaN(detected) ? this.runtime.clock() : detected;
    this.report(
      this.config.alert,
      sourceAlertKey(gap.host, gap.instance, gap.app),
      atMs,
      1,
      1,
      () => [],
      undefined,
      safeText(`seq ${gap.from}..${gap.to} missing (${lost} event${lost === 1 ? '' : 's'})`),
    );
  }

  protected override condition(alert: Alert): string {
    return `${alert.count} gap${alert.count === 1 ? '' : 's'} in the sequence of ${keyLabel(alert.key)}`;
  }
}

/** Compile one validated rule. */
export function compileRule(config: RuleConfig, runtime: RuleRuntime): CompiledRule {
  switch (config.kind) {
    case 'immediate':
      return new ImmediateRule(config, runtime);
    case 'threshold':
      return new ThresholdRule(config, runtime);
    case 'distinct':
      return new DistinctRule(config, runtime);
    case 'sequence':
      return new SequenceRule(config, runtime);
    case 'silence':
      return new SilenceRule(config, runtime);
    case 'gap':
      return new GapRule(config, runtime);
  }
}
