import { randomBytes } from 'node:crypto';
import { SCENARIOS } from './catalogue';
import { AlertWatcher, type CollectorClient } from './collector-client';
import { AttackClient, UnreachableError } from './http';
import { AttackFailed, type LabCollectorControl, type Scenario, type TargetOutcome, type TargetRun } from './scenario';
import { fileOffsets, fileSinks } from './sinks';
import { SourceAddressPlan, dispatcherFrom, isLoopbackV4, type Dispatcher } from './source-address';
import { describeSources, probeTarget, type LabShop, type Target, type TargetSpec } from './target';
import type { Evidence, RunReport, ScenarioInfo, ScenarioResult, TargetInfo, TargetResult } from './types';
import { decideVerdict, failedChecks } from './verdict';
import { TargetWindow, type WindowView } from './window';

export interface LabTarget {
  spec: TargetSpec;
  /** Defaults to the kind given, else `target<n>`. */
  name?: string;
  lab?: LabShop;
}

export type ProgressEvent =
  | { kind: 'target'; target: TargetInfo }
  | { kind: 'scenario-start'; scenario: ScenarioInfo; index: number; total: number }
  | { kind: 'scenario-done'; result: ScenarioResult; index: number; total: number }
  | { kind: 'line'; text: string };

export interface RunOptions {
  targets: readonly LabTarget[];
  collector: CollectorClient;
  scenarios?: readonly Scenario[];
  tools?: boolean;
  /** The lab's collector process: the outage and tampering scenarios need it. */
  lab?: LabCollectorControl;
  progress?: (event: ProgressEvent) => void;
  /** How long the probe waits for a target's records to reach the collector (default 3 s; 8 s for targets given as naive or fixed). */
  probeWaitMs?: number;
  /** Attack loopback targets from distinct 127.x.y.z addresses (default true). */
  sourceAddresses?: boolean;
}

/** A target or the collector cannot be used: said in one line to the user. */
export class LabSetupError extends Error {
  override name = 'LabSetupError';
}

function nameTargets(targets: readonly LabTarget[]): string[] {
  const names: string[] = [];
  targets.forEach((target, index) => {
    let name = target.name ?? target.spec.kind ?? `target${index + 1}`;
    if (names.includes(name)) name = `${name}${index + 1}`;
    names.push(name);
  });
  return names;
}

function summarise(view: WindowView | undefined): Pick<Evidence, 'eventIds' | 'eventCounts' | 'alerts' | 'timeToAlertMs'> {
  if (view === undefined) return { eventIds: [], eventCounts: {}, alerts: [] };
  const counts: Record<string, number> = {};
  for (const record of view.records) {
    const type = record.event?.type ?? 'raw';
    counts[type] = (counts[type] ?? 0) + 1;
  }
  const timed = view.alerts.map((alert) => alert.afterMs).filter((ms): ms is number => ms !== undefined);
  return {
    eventIds: view.records.map((record) => record.id).slice(0, 200),
    eventCounts: counts,
    alerts: view.alerts.slice(0, 50),
    ...(timed.length > 0 && { timeToAlertMs: Math.round(Math.min(...timed)) }),
  };
}

interface RunState {
  notes: string[];
  samples: Evidence['samples'];
  leaks: Evidence['leaks'];
  view?: WindowView;
}

/**
 * Runs scenarios against targets and judges each target: probes which targets reach the collector,
 * follows the collector's alert stream, then runs the scenarios in order (each against every target at
 * once), each from its own source address where the target is on loopback.
 */
export async function runScenarios(options: RunOptions): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const progress = options.progress ?? (() => undefined);
  const collector = options.collector;
  const scenarios = options.scenarios ?? SCENARIOS;
  const reportNotes: string[] = [];
  try {
    await collector.check();
  } catch (error) {
    throw new LabSetupError((error as Error).message);
  }

  const watcher = new AlertWatcher(collector);
  const streaming = await watcher.start();
  if (!streaming) reportNotes.push(`the collector's event stream was not available (${watcher.lastError ?? 'no answer'}): times to alert come from the collector's stored change times`);
  const plan = new SourceAddressPlan();
  const dispatchers: Dispatcher[] = [];
  const names = nameTargets(options.targets);
  let useAddresses = options.sourceAddresses !== false;
  const honoured = new Set<string>();

  async function clientFor(target: { url: string }, scenarioIndex: number, targetIndex: number): Promise<{ http: AttackClient; address?: string }> {
    const host = new URL(target.url).hostname;
    if (useAddresses && isLoopbackV4(host)) {
      const address = plan.address(scenarioIndex, targetIndex);
      const dispatcher = await dispatcherFrom(address);
      if (dispatcher !== undefined) {
        dispatchers.push(dispatcher);
        return { http: new AttackClient(target.url, { dispatcher }), address };
      }
    }
    return { http: new AttackClient(target.url) };
  }

  async function closeDispatchers(): Promise<void> {
    await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close().catch(() => undefined)));
  }

  try {
    // Targets: reachable? instrumented? what kind?
    const clients: AttackClient[] = [];
    const probeAddresses: Array<string | undefined> = [];
    for (const [index, entry] of options.targets.entries()) {
      const name = names[index]!;
      let client = await clientFor(entry.spec, 0, index);
      try {
        await client.http.get('/');
      } catch (error) {
        if (client.address !== undefined && error instanceof UnreachableError && /EADDRNOTAVAIL|EINVAL/.test(error.message)) {
          useAddresses = false;
          reportNotes.push('this system cannot send from other loopback addresses: every scenario attacks from the default address');
          client = await clientFor(entry.spec, 0, index);
          await client.http.get('/').catch((again: unknown) => {
            throw new LabSetupError(`target ${name} (${entry.spec.url}) is unreachable: ${(again as Error).message}`);
          });
        } else {
          throw new LabSetupError(`target ${name} (${entry.spec.url}) is unreachable: ${(error as Error).message}`);
        }
      }
      clients.push(client.http);
      probeAddresses.push(client.address);
    }
    // A target said to ship logs gets longer to show it (a sender may be in reconnect backoff).
    const probes = await Promise.all(
      clients.map((http, index) => {
        const kind = options.targets[index]!.spec.kind;
        return probeTarget(http, collector, options.probeWaitMs ?? (kind === 'naive' || kind === 'fixed' ? 8000 : 3000));
      }),
    );
    const targets: Target[] = options.targets.map((entry, index) => {
      const probe = probes[index]!;
      const name = names[index]!;
      const target: Target = {
        name,
        index,
        url: entry.spec.url,
        kind: entry.spec.kind ?? probe.inferredKind,
        kindSource: entry.spec.kind !== undefined ? 'given' : 'inferred',
        sources: probe.sources,
        ...(probe.seenAs !== undefined && { seenAs: probe.seenAs }),
        ...(entry.lab !== undefined && { lab: entry.lab }),
      };
      // The target records the lab's own source address: scenarios can be told apart by address.
      if (probe.seenAs !== undefined && probe.seenAs === probeAddresses[index]) honoured.add(name);
      if (entry.spec.kind === 'fixed' && probe.inferredKind !== 'fixed') {
        reportNotes.push(`${name} was given as fixed, but no a09 event from it reached the collector: ${describeSources(target)}`);
      }
      progress({ kind: 'target', target: targetInfo(target) });
      return target;
    });
    await closeDispatchers();

    const results: ScenarioResult[] = [];
    const earlier = new Map<string, Array<{ scenario: ScenarioInfo; result: TargetResult }>>();
    for (const [index, scenario] of scenarios.entries()) {
      const info: ScenarioInfo = { id: scenario.id, title: scenario.title, a09: scenario.a09, cwe: scenario.cwe, attack: scenario.attack };
      progress({ kind: 'scenario-start', scenario: info, index, total: scenarios.length });
      const cursor = await collector.latestRecordId().catch(() => 0);
      const states = new Map<string, RunState>();
      const started = Date.now();
      const runs: TargetRun[] = [];
      for (const target of targets) {
        const { http, address } = await clientFor(target, index + 1, target.index);
        const state: RunState = { notes: [], samples: [], leaks: [] };
        states.set(target.name, state);
        const own = address !== undefined && honoured.has(target.name) ? address : undefined;
        const attackerAddress = own ?? target.seenAs;
        // With its own address per scenario, late records of the scenario before are told apart.
        const window = new TargetWindow(target, collector, streaming ? watcher : undefined, cursor, own);
        const consoleFiles = target.lab?.consoleFiles ?? [];
        const offsets = fileOffsets(consoleFiles);
        runs.push({
          target,
          http,
          nonce: randomBytes(5).toString('hex'),
          collector,
          ...(attackerAddress !== undefined && { attackerAddress }),
          ownAddress: own !== undefined,
          observe: async (settle) => {
            const view = await window.settle(http.firstRequestAt ?? Date.now(), http.lastRequestAt ?? Date.now(), { expectRequests: http.exchanges.length, ...settle });
            state.view = view;
            return view;
          },
          consoleSinks: () => fileSinks(consoleFiles.map((file) => ({ path: file, label: `console of ${target.name} (${file.split('/').pop()})`, offset: offsets.get(file) ?? 0 }))),
          note: (line) => void (state.notes.length < 60 && state.notes.push(line)),
          sample: (label, text) => void (state.samples.length < 12 && state.samples.push({ label, text: text.slice(0, 4000) })),
          leak: (leak) => void (state.leaks.length < 40 && state.leaks.push(leak)),
          earlier: earlier.get(target.name) ?? [],
          tools: options.tools === true,
          progress: (text) => progress({ kind: 'line', text }),
        });
      }

      const outcomes = new Map<string, TargetOutcome>();
      if (scenario.scope === 'target') {
        await Promise.all(
          runs.map(async (run) => {
            try {
              outcomes.set(run.target.name, await scenario.run(run));
            } catch (error) {
              outcomes.set(run.target.name, { error: describeError(error) });
            }
          }),
        );
      } else if (options.lab === undefined) {
        for (const run of runs) outcomes.set(run.target.name, { notRun: `needs ${scenario.needs}` });
      } else {
        try {
          const byTarget = await scenario.run(runs, options.lab);
          for (const run of runs) outcomes.set(run.target.name, byTarget.get(run.target.name) ?? { error: 'the scenario gave no outcome for this target' });
        } catch (error) {
          for (const run of runs) outcomes.set(run.target.name, { error: describeError(error) });
        } finally {
          // Whatever happened, the next scenario needs the collector up again.
          options.lab.resume();
          await options.lab.start().catch((error: unknown) => reportNotes.push(`the collector did not come back after ${scenario.id}: ${describeError(error)}`));
        }
      }
      await closeDispatchers();

      const durationMs = Date.now() - started;
      const scenarioResult: ScenarioResult = { scenario: info, results: [] };
      for (const target of targets) {
        const outcome = outcomes.get(target.name)!;
        const state = states.get(target.name)!;
        const verdict = decideVerdict(target.kind, outcome);
        const checks = 'checks' in outcome ? [...outcome.checks] : [];
        const failed = failedChecks(checks);
        const summary = 'checks' in outcome
          ? failed.length === 0 ? `all ${checks.length} checks held` : `${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.label).join('; ')}`
          : verdict.label;
        const result: TargetResult = {
          target: target.name,
          kind: target.kind,
          verdict,
          checks,
          evidence: { summary, observations: state.notes, samples: state.samples, leaks: state.leaks, ...summarise(outcome.view ?? state.view) },
          durationMs,
        };
        scenarioResult.results.push(result);
        const list = earlier.get(target.name) ?? [];
        list.push({ scenario: info, result });
        earlier.set(target.name, list);
      }
      results.push(scenarioResult);
      progress({ kind: 'scenario-done', result: scenarioResult, index, total: scenarios.length });
    }
    return {
      tool: 'a09-lab',
      version: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      collector: collector.baseUrl,
      targets: targets.map(targetInfo),
      scenarios: results,
      notes: reportNotes,
    };
  } finally {
    await closeDispatchers();
    await watcher.stop();
  }
}

function describeError(error: unknown): string {
  if (error instanceof AttackFailed || error instanceof UnreachableError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof Error && error.name !== 'Error' ? `${error.name}: ${message}` : message;
}

export function targetInfo(target: Target): TargetInfo {
  return {
    name: target.name,
    url: target.url,
    kind: target.kind,
    kindSource: target.kindSource,
    instrumentation: describeSources(target),
    ...(target.seenAs !== undefined && { seenAs: target.seenAs }),
  };
}
