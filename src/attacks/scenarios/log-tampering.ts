import Database from 'better-sqlite3';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { verifyChain, type ChainReport } from '../../collector';
import type { LabScenario, TargetOutcome, TargetRun } from '../scenario';
import { check, count, listIds } from '../scenario';
import { localDateStamp } from '../sinks';
import { markersIn, sendMarkers, waitForMarkers } from './markers';

export const KEPT = 5;
export const DELETED = 5;
export const AFTER = 3;

export interface TamperResult {
  /** Record ids altered in place. */
  altered: number[];
  /** Record ids deleted from the end of the table. */
  deleted: number[];
}

/**
 * What an attacker with write access to the collector's file does to hide an attack: drop the append-only
 * triggers, alter a record, delete the newest records, rewind the chain head and each source's sequence
 * counters so the hash chain and the counters look whole, and put the triggers back.
 */
export function tamperWithStore(dbPath: string, alterIds: readonly number[], keepUpTo: number): TamperResult {
  const db = new Database(dbPath);
  try {
    const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").all() as Array<{ name: string; sql: string }>;
    const deleted = (db.prepare('SELECT id FROM events WHERE id > ? ORDER BY id').pluck().all(keepUpTo) as number[]);
    db.transaction(() => {
      for (const trigger of triggers) db.exec(`DROP TRIGGER IF EXISTS "${trigger.name.replace(/"/g, '""')}"`);
      for (const id of alterIds) {
        // Hide where the attack came from: a different address in the record, the same length so the
        // record still reads (only the chain can tell).
        db.prepare("UPDATE events SET ip = '10.0.0.99', content = replace(content, '127.0.0.1', '10.0.0.99') WHERE id = ?").run(id);
      }
      db.prepare('DELETE FROM events WHERE id > ?').run(keepUpTo);
      const head = db.prepare('SELECT hash FROM events WHERE id = ?').get(keepUpTo) as { hash: Buffer } | undefined;
      if (head !== undefined) db.prepare('UPDATE chain_head SET last_id = ?, last_hash = ? WHERE id = 1').run(keepUpTo, head.hash);
      db.exec(`UPDATE sources SET
        last_seq = COALESCE((SELECT MAX(seq) FROM events e WHERE e.source_id = sources.id), 0),
        contiguous_seq = COALESCE((SELECT MAX(seq) FROM events e WHERE e.source_id = sources.id), 0),
        events = (SELECT COUNT(*) FROM events e WHERE e.source_id = sources.id)`);
      for (const trigger of triggers) db.exec(trigger.sql);
    })();
    return { altered: [...alterIds], deleted };
  } finally {
    db.close();
  }
}

/** The same on a shop's local access log: lines with `deleteMarker` go, one line with `alterMarker` changes. */
export function tamperWithFile(file: string, deleteMarker: string, alterMarker: string): { deleted: number; altered: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  let altered = 0;
  const kept = lines
    .filter((line) => !line.includes(deleteMarker))
    .map((line) => {
      if (altered === 0 && line.includes(alterMarker)) {
        altered++;
        return line.replace(/^127\.[\d.]+/, '10.0.0.99');
      }
      return line;
    });
  writeFileSync(file, kept.join('\n'));
  return { deleted: lines.length - kept.length, altered };
}

function accessLogOf(run: TargetRun): string | undefined {
  const dir = run.target.lab?.logDir;
  if (dir === undefined) return undefined;
  const today = `access.log.${localDateStamp()}`;
  try {
    const names = readdirSync(dir).filter((name) => name.startsWith('access.log'));
    return path.join(dir, names.includes(today) ? today : names.sort().pop() ?? today);
  } catch {
    return undefined;
  }
}

export const logTampering: LabScenario = {
  id: 'log-tampering',
  title: 'Log tampering: delete and alter records',
  a09: 'Log integrity is not protected: an attacker deletes and alters the records of the attack unnoticed',
  cwe: 'CWE-117, CWE-778 (log integrity: OWASP Logging Cheat Sheet, tamper detection)',
  attack: `${KEPT} requests to each shop, then ${DELETED} more; stop the collector; in its SQLite file alter a record of the first batch, delete the second batch, rewind the chain head and the sequence counters, restore the triggers; do the same to the stock shop's access log; restart; ${AFTER} more requests. Then run verify and look for a sequence-gap alert.`,
  scope: 'lab',
  needs: "the collector's store and process (run by 'a09-lab demo')",
  async run(runs, lab) {
    const nonce = runs[0]?.nonce ?? 'x';
    const collector = runs[0]!.collector;
    const kept = `a09-tamper-${nonce}-kept`;
    const gone = `a09-tamper-${nonce}-gone`;
    const after = `a09-tamper-${nonce}-after`;
    const start = await collector.latestRecordId();
    await sendMarkers(runs, kept, KEPT);
    const keptRecords = await waitForMarkers(collector, runs, start, kept, KEPT, 10_000);
    const keepUpTo = await collector.latestRecordId();
    await sendMarkers(runs, gone, DELETED);
    const goneRecords = await waitForMarkers(collector, runs, keepUpTo, gone, DELETED, 10_000);
    // The senders must have their acknowledgements before the stop, or they would replay what is deleted.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await lab.stop();

    const alterIds: number[] = [];
    for (const run of runs) {
      const records = keptRecords.get(run.target.name) ?? [];
      const middle = records[Math.floor(records.length / 2)];
      if (middle !== undefined) alterIds.push(middle.id);
    }
    let tamper: TamperResult;
    const fileEdits = new Map<string, { file: string; deleted: number; altered: number }>();
    try {
      tamper = tamperWithStore(lab.dbPath, alterIds, keepUpTo);
      for (const run of runs) {
        if (run.target.sources.length > 0) continue;
        const file = accessLogOf(run);
        if (file !== undefined) fileEdits.set(run.target.name, { file, ...tamperWithFile(file, gone, `${kept}-2`) });
      }
    } finally {
      await lab.start();
    }
    const report: ChainReport = verifyChain(lab.dbPath, lab.chainKey === undefined ? {} : { chainKey: lab.chainKey });
    const flagged = new Set(report.problems.map((problem) => problem.id));

    const restart = Date.now();
    const restartCursor = await collector.latestRecordId();
    await sendMarkers(runs, after, AFTER);
    await waitForMarkers(collector, runs, restartCursor, after, AFTER, 15_000);
    // The gap is found when the next event arrives; the alert follows at once.
    const gapDeadline = Date.now() + 5000;
    let gaps = await collector.gaps();
    let alerts = await collector.alertsSince(new Date(restart - 60_000).toISOString());
    const eventSources = (run: TargetRun) => run.target.sources.filter((source) => source.format === 'event');
    const wantedGap = (run: TargetRun): boolean => eventSources(run).length === 0 || gaps.some((gap) => eventSources(run).some((s) => s.format === 'event' && s.host === gap.host && s.instance === gap.instance && Date.parse(gap.detectedAt) >= restart - 1000));
    while (!runs.every(wantedGap) && Date.now() < gapDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      gaps = await collector.gaps();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    alerts = await collector.alertsSince(new Date(restart - 60_000).toISOString());

    const outcomes = new Map<string, TargetOutcome>();
    for (const run of runs) {
      const mineAltered = (keptRecords.get(run.target.name) ?? []).map((r) => r.id).filter((id) => tamper.altered.includes(id));
      const mineDeleted = (goneRecords.get(run.target.name) ?? []).map((r) => r.id);
      const sources = eventSources(run);
      const myGaps = gaps.filter((gap) => sources.some((s) => s.format === 'event' && s.host === gap.host && s.instance === gap.instance) && Date.parse(gap.detectedAt) >= restart - 1000);
      const gapAlerts = alerts.filter((alert) => alert.ruleId === 'sequence_gap' && sources.some((s) => s.format === 'event' && alert.key.value === `source:${s.host}/${s.instance}`));
      const edit = fileEdits.get(run.target.name);
      run.note(`batch kept ${markersIn(keptRecords.get(run.target.name) ?? [], kept, KEPT).size}/${KEPT}, batch deleted ${markersIn(goneRecords.get(run.target.name) ?? [], gone, DELETED).size}/${DELETED} at the collector before the tampering`);
      if (mineAltered.length > 0 || mineDeleted.length > 0) run.note(`collector store: altered record ${listIds(mineAltered)}, deleted records ${listIds(mineDeleted)}; chain head and sequence counters rewound, triggers restored`);
      if (edit !== undefined) run.note(`${path.basename(edit.file)}: deleted ${count(edit.deleted, 'line')}, altered ${count(edit.altered, 'line')} (address rewritten); nothing keeps a copy or a checksum`);
      if (run.target.sources.length > 0) run.note(`a09-lab verify on the collector's store: ${report.ok ? 'chain intact' : `chain broken: ${report.problems.slice(0, 3).map((p) => `${p.kind} ${p.id}`).join(', ')}`}`);
      if (myGaps[0] !== undefined) run.note(`sequence gap ${myGaps[0].from}..${myGaps[0].to} found when the shop's next event arrived`);

      const alteredFound = mineAltered.length > 0 && mineAltered.every((id) => flagged.has(id));
      const checks = [
        check(
          'verify-altered',
          'the altered record is found (a09-lab verify: hash chain)',
          alteredFound,
          edit !== undefined ? `the local log was edited in place: there is nothing to verify it against` : mineAltered.length === 0 ? 'none of its records reached the collector' : alteredFound ? `verify reports record ${listIds(mineAltered)} altered` : `verify missed record ${listIds(mineAltered)}`,
        ),
        check(
          'gap-detected',
          'the deleted records are revealed by a sequence gap and its alert',
          myGaps.length > 0 && gapAlerts.length > 0,
          sources.length === 0 ? `no sequence numbers: ${count(edit?.deleted ?? mineDeleted.length, 'deleted record')} left no trace` : `${myGaps.length > 0 ? `gap ${myGaps.map((g) => `${g.from}..${g.to}`).join(', ')}` : 'no gap'}; ${gapAlerts.length > 0 ? `alert ${gapAlerts[0]!.id.slice(0, 8)} "${gapAlerts[0]!.title}"` : 'no sequence_gap alert'}`,
        ),
      ];
      outcomes.set(run.target.name, { checks });
    }
    return outcomes;
  },
};
