import type { Scenario } from './scenario';
import { basketIdor } from './scenarios/basket-idor';
import { bruteForce } from './scenarios/brute-force';
import { collectorOutage } from './scenarios/collector-outage';
import { dastScan } from './scenarios/dast-scan';
import { errorLeakage } from './scenarios/error-leakage';
import { forgedToken } from './scenarios/forged-token';
import { logExposure } from './scenarios/log-exposure';
import { logInjection } from './scenarios/log-injection';
import { logTampering } from './scenarios/log-tampering';
import { missingContext } from './scenarios/missing-context';
import { passwordSpraying } from './scenarios/password-spraying';
import { realTime } from './scenarios/real-time';
import { secretsInLogs } from './scenarios/secrets-in-logs';
import { sqliLogin } from './scenarios/sqli-login';

/** Every scenario, in the order the lab runs them (the collector ones last: they restart it). */
export const SCENARIOS: readonly Scenario[] = [
  bruteForce,
  passwordSpraying,
  sqliLogin,
  logInjection,
  secretsInLogs,
  missingContext,
  basketIdor,
  errorLeakage,
  logExposure,
  forgedToken,
  dastScan,
  collectorOutage,
  realTime,
  logTampering,
];

export const SCENARIO_IDS: readonly string[] = SCENARIOS.map((scenario) => scenario.id);

/** The scenarios with these ids, in catalogue order; unknown ids are returned separately. */
export function selectScenarios(ids: readonly string[] | undefined): { scenarios: Scenario[]; unknown: string[] } {
  if (ids === undefined || ids.length === 0) return { scenarios: [...SCENARIOS], unknown: [] };
  const unknown = ids.filter((id) => !SCENARIO_IDS.includes(id));
  return { scenarios: SCENARIOS.filter((scenario) => ids.includes(scenario.id)), unknown };
}
