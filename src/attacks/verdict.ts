import type { Check, TargetKind, Verdict } from './types';

/** What a scenario produced for one target: its checks, an error, or a reason it could not run. */
export type Judgement =
  | { checks: readonly Check[] }
  | { error: string }
  | { notRun: string };

/**
 * The verdict rule, the same for every scenario: a fixed target must pass every check; a stock or naive
 * target shows the failure by failing at least one. Anything else is said as it is ("NOT fixed",
 * "failure not shown"), and a scenario with no checks cannot be judged.
 */
export function decideVerdict(kind: TargetKind, judgement: Judgement): Verdict {
  if ('error' in judgement) {
    const message = judgement.error.replace(/\s+/g, ' ').trim() || 'unknown error';
    return { status: 'error', label: `error: ${message}`, expected: false };
  }
  if ('notRun' in judgement) return { status: 'not run', label: `not run: ${judgement.notRun}`, expected: true };
  if (judgement.checks.length === 0) return { status: 'error', label: 'error: the scenario made no checks', expected: false };
  const held = judgement.checks.every((check) => check.passed);
  if (kind === 'fixed') return held ? { status: 'fixed', label: 'fixed', expected: true } : { status: 'NOT fixed', label: 'NOT fixed', expected: false };
  return held
    ? { status: 'failure not shown', label: 'failure not shown', expected: false }
    : { status: 'failure shown', label: 'failure shown', expected: true };
}

/** The checks that failed, for a one-line reason beside a verdict. */
export function failedChecks(checks: readonly Check[]): Check[] {
  return checks.filter((check) => !check.passed);
}
