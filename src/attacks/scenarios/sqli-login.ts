import { neutralise } from '../../sanitize';
import { AttackFailed, check, count, type TargetScenario } from '../scenario';
import { ADMIN, alertCheck, login } from './juice';

export const SQLI_LOGINS = ["' OR 1=1--", `${ADMIN.email}'--`];

export const sqliLogin: TargetScenario = {
  id: 'sqli-login',
  title: 'SQL injection login bypass',
  a09: 'An attack that succeeds leaves no trace and raises no alert',
  cwe: 'CWE-778 (Insufficient Logging); the injection itself is CWE-89',
  attack: `Log in with the email ${SQLI_LOGINS.map((s) => `\`${s}\``).join(' and ')} and any password.`,
  scope: 'target',
  async run(run) {
    const logins = [];
    for (const email of SQLI_LOGINS) {
      const result = await login(run.http, email, `x-${run.nonce}`);
      logins.push(result);
      run.note(`email ${neutralise(email)} -> ${result.status}${result.umail !== undefined ? `, logged in as ${result.umail}` : ''}`);
    }
    const bypassed = logins.filter((result) => result.umail === ADMIN.email).length;
    if (bypassed === 0) throw new AttackFailed(`neither injection logged in (statuses ${logins.map((l) => l.status).join(', ')}): the target is not vulnerable`);
    const view = await run.observe({ expectAlerts: ['malicious_sqli'] });
    const events = view.ofType('malicious_sqli');
    const critical = events.filter((event) => event.level === 'CRITICAL');
    return {
      checks: [
        check(
          'events:malicious_sqli',
          `each injection is recorded as a CRITICAL malicious_sqli event (${SQLI_LOGINS.length})`,
          critical.length >= bypassed,
          events.length === 0 ? 'no malicious_sqli event reached the collector' : `${count(events.length, 'malicious_sqli event')} (${critical.length} CRITICAL), records ${view.recordIdsOf('malicious_sqli').join(', ')}`,
        ),
        alertCheck(view, 'malicious_sqli', 'a CRITICAL malicious_sqli alert', (alert) => (alert.level === 'CRITICAL' ? undefined : `level ${alert.level}`)),
      ],
      view,
    };
  },
};
