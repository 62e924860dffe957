/** What `demo` and `attack` print after a run: the verdict table, the report files, and what went wrong. */
import { tally, useColour, verdictTable, writeReport, type RunReport } from '../attacks';

export interface PrintedRun {
  /** 0: every verdict as expected; 1: a fixed target failed (or errored). */
  exitCode: number;
}

export function printRun(report: RunReport, reportDir: string | undefined, log: (line: string) => void = console.log): PrintedRun {
  log('');
  log(verdictTable(report, useColour()));
  log('  (ms: from the scenario\'s first request to its first alert)');
  for (const note of report.notes) log(`note: ${note}`);
  if (reportDir !== undefined) {
    const written = writeReport(report, reportDir);
    log('');
    log(`report: ${written.html}`);
    log(`        ${written.json}`);
  }
  const counts = tally(report);
  log('');
  if (counts.fixedFailures.length === 0 && counts.unexpected.length === 0) {
    log(`all ${counts.total} verdicts as expected`);
  } else {
    for (const miss of counts.fixedFailures) log(`FIXED TARGET FAILED: ${miss.scenario} on ${miss.target}: ${miss.label}`);
    for (const miss of counts.unexpected) log(`unexpected: ${miss.scenario} on ${miss.target}: ${miss.label}`);
  }
  return { exitCode: counts.fixedFailures.length > 0 ? 1 : 0 };
}
