import { neutralise } from '../../sanitize';
import type { RunReport, TargetResult, VerdictStatus } from '../types';

const COLOURS: Record<VerdictStatus, string> = {
  fixed: '\u001b[32m',
  'failure shown': '\u001b[33m',
  'NOT fixed': '\u001b[1;31m',
  'failure not shown': '\u001b[35m',
  error: '\u001b[31m',
  'not run': '\u001b[2m',
};
const RESET = '\u001b[0m';

/** Colour when writing to a terminal, unless NO_COLOR is set (https://no-color.org). */
export function useColour(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** A verdict cell: the verdict, and the time to the first alert when there was one. */
export function cellText(result: TargetResult | undefined, maxWidth = 34): string {
  if (result === undefined) return '';
  const ms = result.evidence.timeToAlertMs;
  const time = ms !== undefined && result.verdict.status !== 'error' ? ` (${ms} ms)` : '';
  // Labels carry error messages: never a raw control character onto the terminal.
  const label = neutralise(result.verdict.label, 200);
  const text = `${label}${time}`;
  return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

/**
 * The side-by-side verdict table, scenario by target. Times in brackets: from the scenario's first
 * request to its first alert.
 */
export function verdictTable(report: RunReport, colour: boolean): string {
  const targets = report.targets.map((target) => target.name);
  const header = ['scenario', ...report.targets.map((target) => `${target.name}${target.kindSource === 'inferred' ? ` (${target.kind}?)` : ''}`)];
  const rows = report.scenarios.map((scenario) => {
    const byTarget = new Map(scenario.results.map((result) => [result.target, result]));
    return { id: scenario.scenario.id, cells: targets.map((name) => byTarget.get(name)) };
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (column === 0 ? row.id.length : cellText(row.cells[column - 1]).length))),
  );
  const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - text.length));
  const line = (cells: string[]): string => cells.join('  ').trimEnd();
  const out = [line(header.map((title, i) => pad(title, widths[i]!))), line(widths.map((width) => '-'.repeat(width)))];
  for (const row of rows) {
    const cells = [pad(row.id, widths[0]!)];
    row.cells.forEach((result, i) => {
      const text = pad(cellText(result), widths[i + 1]!);
      cells.push(colour && result !== undefined ? `${COLOURS[result.verdict.status]}${text}${RESET}` : text);
    });
    out.push(line(cells));
  }
  return out.join('\n');
}

export interface VerdictTally {
  total: number;
  expected: number;
  /** Fixed targets whose verdict is not `fixed` (NOT fixed or error). */
  fixedFailures: Array<{ scenario: string; target: string; label: string }>;
  /** Other verdicts that differ from what the target kind leads to expect. */
  unexpected: Array<{ scenario: string; target: string; label: string }>;
}

export function tally(report: RunReport): VerdictTally {
  const result: VerdictTally = { total: 0, expected: 0, fixedFailures: [], unexpected: [] };
  for (const scenario of report.scenarios) {
    for (const target of scenario.results) {
      result.total++;
      if (target.verdict.expected) {
        result.expected++;
        continue;
      }
      const entry = { scenario: scenario.scenario.id, target: target.target, label: target.verdict.label };
      if (target.kind === 'fixed') result.fixedFailures.push(entry);
      else result.unexpected.push(entry);
    }
  }
  return result;
}
