import type { CollectorClient } from './collector-client';
import type { AttackClient } from './http';
import type { SinkText } from './sinks';
import type { Target } from './target';
import type { Check, LeakEvidence, ScenarioInfo, TargetResult } from './types';
import type { Judgement } from './verdict';
import type { SettleOptions, WindowView } from './window';

/**
 * Control over the lab's own collector (the demo runs it in a child process): scenarios about the
 * collector itself (outage, tampering) need it and are "not run" without it.
 */
export interface LabCollectorControl {
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Start again on the same ports and store. */
  start(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets but reads nothing (a hung collector). */
  hang(): void;
  /** SIGCONT. */
  resume(): void;
  /** The SQLite store. */
  dbPath: string;
  chainKey?: string;
}

/** What a scenario run against one target can use. */
export interface TargetRun {
  target: Target;
  /** The attacker's client for this scenario (its own source address when the target is on loopback). */
  http: AttackClient;
  /** The attacker's address as the target records it (its own loopback address, or what the probe saw). */
  attackerAddress?: string;
  /** attackerAddress is this scenario's alone (a loopback address of its own), not shared with others. */
  ownAddress: boolean;
  /** Unique per scenario and target: markers, canary values. */
  nonce: string;
  collector: CollectorClient;
  /** Wait for the target's records and alerts after the attack, and read them. */
  observe(options?: SettleOptions): Promise<WindowView>;
  /** The lab's console files of this target, as sinks (only what this scenario added). */
  consoleSinks(): SinkText[];
  note(line: string): void;
  sample(label: string, text: string): void;
  leak(leak: LeakEvidence): void;
  /** Results of earlier scenarios against this target (the real-time summary reads them). */
  earlier: readonly { scenario: ScenarioInfo; result: TargetResult }[];
  /** External tools (`--tools`). */
  tools: boolean;
  /** Progress lines (the demo's display). */
  progress(line: string): void;
}

/** What a scenario returns for one target: the checks (the verdict follows), or why it could not judge. */
export type TargetOutcome = Judgement & { summary?: string; view?: WindowView };

/** Thrown by a scenario when its attack could not be carried out (the verdict is `error: ...`). */
export class AttackFailed extends Error {
  override name = 'AttackFailed';
}

export interface TargetScenario extends ScenarioInfo {
  scope: 'target';
  run(run: TargetRun): Promise<TargetOutcome>;
}

/** A scenario that acts on the lab (the collector, the shops' files) with every target at once. */
export interface LabScenario extends ScenarioInfo {
  scope: 'lab';
  /** Why it cannot run without the lab (shown as `not run: ...`). */
  needs: string;
  run(runs: readonly TargetRun[], lab: LabCollectorControl): Promise<Map<string, TargetOutcome>>;
}

export type Scenario = TargetScenario | LabScenario;

export function check(id: string, label: string, passed: boolean, detail: string): Check {
  return { id, label, passed, detail };
}

/** `n thing(s)`. */
export function count(n: number, thing: string): string {
  return `${n} ${thing}${n === 1 ? '' : 's'}`;
}

export function listIds(ids: readonly (number | string)[], max = 8): string {
  if (ids.length === 0) return 'none';
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown} … (${ids.length} in all)` : shown;
}
