import type { ApiRecord, CollectorClient } from '../collector-client';
import type { TargetRun } from '../scenario';
import { belongsTo } from '../target';

/** The search path that carries a marker: every target logs its URL one way or another. */
export function markerPath(marker: string): string {
  return `/rest/products/search?q=${encodeURIComponent(marker)}`;
}

/** `count` marked requests to every target at once (`<prefix>-<i>`), in order per target. */
export async function sendMarkers(runs: readonly TargetRun[], prefix: string, count: number): Promise<void> {
  await Promise.all(
    runs.map(async (run) => {
      for (let i = 0; i < count; i++) await run.http.get(markerPath(`${prefix}-${i}`));
    }),
  );
}

/** Which of `<prefix>-0..count-1` a target's records carry. */
export function markersIn(records: readonly ApiRecord[], prefix: string, count: number): Set<number> {
  const found = new Set<number>();
  for (const record of records) {
    const text = record.message ?? (record.event !== undefined ? record.event.where.url ?? '' : '');
    for (let i = 0; i < count; i++) {
      // `-1` must not match `-10`: the marker ends the query value.
      const marker = `${prefix}-${i}`;
      const at = text.indexOf(marker);
      if (at !== -1 && !/\d/.test(text.charAt(at + marker.length))) found.add(i);
    }
  }
  return found;
}

/**
 * Wait until every target that ships a09 events has delivered all `count` markers with `prefix` (or the
 * time is up); returns each target's matching records. Unstructured senders have no sequence numbers and
 * no retries: what they lost never comes, so they get `rawGraceMs` past the start and no more.
 */
export async function waitForMarkers(
  collector: CollectorClient,
  runs: readonly TargetRun[],
  cursor: number,
  prefix: string,
  count: number,
  timeoutMs: number,
  rawGraceMs = 1500,
): Promise<Map<string, ApiRecord[]>> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const shipping = runs.filter((run) => run.target.sources.length > 0);
  const reliable = shipping.filter((run) => run.target.sources.some((source) => source.format === 'event'));
  let byTarget = new Map<string, ApiRecord[]>();
  for (;;) {
    const records = await collector.recordsAfter(cursor, { text: prefix });
    byTarget = new Map(runs.map((run) => [run.target.name, records.filter((record) => belongsTo(run.target, record))]));
    const done = (run: TargetRun): boolean => markersIn(byTarget.get(run.target.name) ?? [], prefix, count).size >= count;
    const complete = reliable.every(done) && (Date.now() - started >= rawGraceMs || shipping.every(done));
    if (complete || Date.now() >= deadline) return byTarget;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
