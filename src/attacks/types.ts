/**
 * The vocabulary of the attack lab: targets, checks, evidence and verdicts. Everything here is plain data
 * (JSON-serialisable): it goes into report.json and the HTML report as it is.
 */

/** What a target is meant to be: Juice Shop as shipped, with a typical team's logging, or with a09. */
export type TargetKind = 'stock' | 'naive' | 'fixed';

export const TARGET_KINDS: readonly TargetKind[] = ['stock', 'naive', 'fixed'];

/**
 * - `failure shown`: a stock or naive target shows the A09 failure the scenario teaches (expected);
 * - `fixed`: a fixed target passed every check (expected);
 * - `NOT fixed`: a fixed target failed a check;
 * - `failure not shown`: a stock or naive target passed every check (the lesson did not show);
 * - `error`: the attack could not be carried out or judged;
 * - `not run`: the scenario needs something this run does not have (the lab's collector process).
 */
export type VerdictStatus = 'failure shown' | 'fixed' | 'NOT fixed' | 'failure not shown' | 'error' | 'not run';

export interface Verdict {
  status: VerdictStatus;
  /** What is printed: the status, `error: <message>` or `not run: <reason>`. */
  label: string;
  /** The verdict is what the target's kind leads to expect (`not run` counts as met). */
  expected: boolean;
}

/**
 * One thing the defence must do. `passed` means the defence held on this point; a stock or naive target
 * shows its failure by failing at least one check.
 */
export interface Check {
  id: string;
  /** What the defence must do, as a sentence. */
  label: string;
  passed: boolean;
  /** What was found (counts, ids, the leaked string). */
  detail: string;
}

/** An alert the collector raised that links records of this target from this scenario. */
export interface AlertEvidence {
  id: string;
  type: string;
  title: string;
  ruleId: string;
  level: string;
  severity: number;
  /** The alert key (`ip:127.9.3.12`, `email:<id>`, `source:<host>/<instance>`). */
  key: string;
  count: number;
  /** `alert` (opened in this scenario) or `alert-update` (an open alert grew). */
  change: 'alert' | 'alert-update';
  /** From the scenario's first attack request to the alert reaching the attack lab (SSE), when seen. */
  afterMs?: number;
}

/** A secret (or forged line) found in a sink. */
export interface LeakEvidence {
  /** Where: `collector record 42`, `/support/logs/access.log.2026-11-27 line 3`, `console of the shop`. */
  sink: string;
  /** Which canary: `new password`, `Bearer token`, `card number`, `forged line`. */
  what: string;
  /** The matching text around it (capped). */
  excerpt: string;
}

export interface Sample {
  label: string;
  text: string;
}

export interface Evidence {
  /** One line saying what happened. */
  summary: string;
  /** Lines for the report: what the attacker did and saw. */
  observations: string[];
  /** Collector record ids of this target's records in the scenario window (capped). */
  eventIds: number[];
  /** Counts of this target's records by event type (`raw` for records without an event). */
  eventCounts: Record<string, number>;
  alerts: AlertEvidence[];
  /** From the first attack request to the first linked alert, in ms. */
  timeToAlertMs?: number;
  leaks: LeakEvidence[];
  samples: Sample[];
}

/** The outcome of one scenario against one target. */
export interface TargetResult {
  target: string;
  kind: TargetKind;
  verdict: Verdict;
  checks: Check[];
  evidence: Evidence;
  durationMs: number;
}

export interface ScenarioInfo {
  id: string;
  title: string;
  /** The OWASP Top 10 A09 point it teaches. */
  a09: string;
  cwe: string;
  /** The attack, in a sentence or two. */
  attack: string;
}

export interface ScenarioResult {
  scenario: ScenarioInfo;
  results: TargetResult[];
}

export interface TargetInfo {
  name: string;
  url: string;
  kind: TargetKind;
  /** Where the kind came from. */
  kindSource: 'given' | 'inferred';
  /** What the collector received from the target's probe request. */
  instrumentation: string;
  /** The attack lab's source address as the target reported it (fixed targets), when known. */
  seenAs?: string;
}

export interface RunReport {
  tool: 'a09-lab';
  version: 1;
  startedAt: string;
  finishedAt: string;
  collector: string;
  targets: TargetInfo[];
  scenarios: ScenarioResult[];
  notes: string[];
}
