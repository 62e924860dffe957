import type { Collector, ReasonCounts, PeerStats, SourceInfo } from '../collector';
import type { CollectedRecord } from '../collector/record';
import type { AlertChange, DetectionConfig } from '../detect';

export interface SourceHealth extends SourceInfo {
  /** A silence rule has an open alert for this source: its heartbeats stopped. */
  silent: boolean;
  /** The latest sys_heartbeat received in this run, and the interval it announced. */
  lastHeartbeatAt?: string;
  heartbeatIntervalMs?: number;
}

export interface SourcesView {
  generatedAt: string;
  /** Most recently seen first, at most `maxSources`; `truncated` when there were more. */
  sources: SourceHealth[];
  truncated: boolean;
  /** What each sending IP address had refused, cut or flagged (the collector's counters). */
  peers: PeerStats[];
  rejected: ReasonCounts;
  openConnections: number;
}

interface Heartbeat {
  at: string;
  intervalMs?: number;
}

function heartbeatKey(host: string, instance: string): string {
  return `${host}\u0000${instance}`;
}

/**
 * Per-source health for the dashboard: the store's sources (last seen, seq, gaps), heartbeats seen in this
 * run, silence alerts, and the collector's per-peer rejection counters. Remembers a bounded number of
 * heartbeats; `dirty` says whether anything changed since the view was last taken.
 */
export class SourceWatch {
  private readonly heartbeats = new Map<string, Heartbeat>();
  private readonly silent = new Set<string>();
  private readonly silenceRules: Set<string>;
  private changed = true;

  constructor(
    config: DetectionConfig,
    private readonly maxSources = 1000,
    private readonly maxTracked = 10_000,
  ) {
    this.silenceRules = new Set(config.rules.filter((rule) => rule.kind === 'silence').map((rule) => rule.id));
  }

  get dirty(): boolean {
    return this.changed;
  }

  onRecord(record: CollectedRecord): void {
    this.changed = true;
    const event = record.event;
    if (event === undefined || event.type !== 'sys_heartbeat') return;
    const key = heartbeatKey(event.host, event.instance);
    const advertised = event.detail.intervalMs ?? event.detail.heartbeatMs;
    const heartbeat: Heartbeat = { at: record.receivedAt };
    if (typeof advertised === 'number' && advertised > 0) heartbeat.intervalMs = advertised;
    this.heartbeats.delete(key);
    if (this.heartbeats.size >= this.maxTracked) this.heartbeats.delete(this.heartbeats.keys().next().value as string);
    this.heartbeats.set(key, heartbeat);
  }

  onGap(): void {
    this.changed = true;
  }

  /**
   * A batch was committed. The view reads the store's committed sources, while records reach onRecord at
   * intake, before their commit: a view taken in between shows the counts before them, and without this no
   * later view would be taken for them.
   */
  onCommit(): void {
    this.changed = true;
  }

  onAlertChange(change: AlertChange): void {
    const alert = change.alert;
    if (!this.silenceRules.has(alert.ruleId) || alert.key.host === undefined || alert.key.instance === undefined) return;
    const key = heartbeatKey(alert.key.host, alert.key.instance);
    if (alert.state === 'open') this.silent.add(key);
    else this.silent.delete(key);
    this.changed = true;
  }

  view(collector: Collector): SourcesView {
    this.changed = false;
    const all = collector.store.sources();
    const sources = all.slice(0, this.maxSources).map((info): SourceHealth => {
      const key = heartbeatKey(info.host, info.instance);
      const health: SourceHealth = { ...info, silent: this.silent.has(key) };
      const heartbeat = this.heartbeats.get(key);
      if (heartbeat !== undefined) {
        health.lastHeartbeatAt = heartbeat.at;
        if (heartbeat.intervalMs !== undefined) health.heartbeatIntervalMs = heartbeat.intervalMs;
      }
      return health;
    });
    const stats = collector.stats();
    const peers = [...stats.peers].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0)).slice(0, this.maxSources);
    return {
      generatedAt: new Date().toISOString(),
      sources,
      truncated: all.length > sources.length,
      peers,
      rejected: stats.rejected,
      openConnections: stats.connections.open,
    };
  }
}
