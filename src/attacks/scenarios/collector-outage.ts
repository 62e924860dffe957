import type { LabScenario, TargetOutcome } from '../scenario';
import { check, count } from '../scenario';
import { markersIn, sendMarkers, waitForMarkers } from './markers';

export const OUTAGE_PHASES = ['before', 'stopped', 'restarted', 'hung'] as const;
export const EVENTS_PER_PHASE = 10;
/** How long the collector stays hung (SIGSTOP) while events flow. */
export const HANG_MS = 3000;

export const collectorOutage: LabScenario = {
  id: 'collector-outage',
  title: 'Collector outage: stop, hang, restart',
  a09: 'Logs are only stored locally, or shipped so that an outage loses them without anyone knowing',
  cwe: 'CWE-778 (Insufficient Logging), CWE-223',
  attack: `Requests flow to every shop (${EVENTS_PER_PHASE} per phase) while the lab's collector runs, is stopped, restarts, and hangs (SIGSTOP ${HANG_MS / 1000} s); then count what reached it.`,
  scope: 'lab',
  needs: "control of the collector process (run by 'a09-lab demo')",
  async run(runs, lab) {
    const nonce = runs[0]?.nonce ?? 'x';
    const collector = runs[0]!.collector;
    const cursor = await collector.latestRecordId();
    const prefix = (phase: string): string => `a09-outage-${nonce}-${phase}`;
    const phaseNotes: string[] = [];
    try {
      for (const phase of OUTAGE_PHASES) {
        if (phase === 'stopped') await lab.stop();
        if (phase === 'restarted') await lab.start();
        if (phase === 'hung') lab.hang();
        await sendMarkers(runs, prefix(phase), EVENTS_PER_PHASE);
        phaseNotes.push(`${phase}: ${EVENTS_PER_PHASE} requests to each shop`);
        if (phase === 'hung') await new Promise((resolve) => setTimeout(resolve, HANG_MS));
      }
    } finally {
      lab.resume();
    }
    // The fixed sender reconnects with backoff (<= 5 s) and replays what the collector did not acknowledge.
    const arrived = new Map<string, Map<string, number>>();
    for (const phase of OUTAGE_PHASES) {
      const byTarget = await waitForMarkers(collector, runs, cursor, prefix(phase), EVENTS_PER_PHASE, 20_000);
      for (const run of runs) {
        const perPhase = arrived.get(run.target.name) ?? new Map<string, number>();
        perPhase.set(phase, markersIn(byTarget.get(run.target.name) ?? [], prefix(phase), EVENTS_PER_PHASE).size);
        arrived.set(run.target.name, perPhase);
      }
    }
    const openGaps = await collector.gaps().then((gaps) => gaps.filter((gap) => gap.filledAt === undefined));

    const outcomes = new Map<string, TargetOutcome>();
    for (const run of runs) {
      const perPhase = arrived.get(run.target.name)!;
      const total = EVENTS_PER_PHASE * OUTAGE_PHASES.length;
      const got = [...perPhase.values()].reduce((a, b) => a + b, 0);
      const lost = total - got;
      const line = OUTAGE_PHASES.map((phase) => `${phase} ${perPhase.get(phase)}/${EVENTS_PER_PHASE}`).join(', ');
      for (const note of phaseNotes) run.note(note);
      run.note(`reached the collector: ${line}; lost ${lost} of ${total}`);
      const sources = run.target.sources.filter((source) => source.format === 'event');
      const gaps = openGaps.filter((gap) => sources.some((source) => source.format === 'event' && source.host === gap.host && source.instance === gap.instance));
      if (run.target.sources.length === 0) run.note('nothing is shipped: the only record is the shop\'s local access log');
      outcomes.set(run.target.name, {
        checks: [
          check('no-loss', `every request of every phase reaches the collector (${total})`, lost === 0, `lost ${lost} of ${total} (${line})`),
          check(
            'accountable',
            'the collector can account for every event: sequence numbers, no gap left open',
            sources.length > 0 && gaps.length === 0,
            sources.length === 0 ? 'no sequence numbers: a loss cannot even be counted at the collector' : gaps.length === 0 ? 'no open gap' : `${count(gaps.length, 'open gap')}: ${gaps.map((g) => `${g.from}..${g.to}`).join(', ')}`,
          ),
        ],
      });
    }
    return outcomes;
  },
};
