import { AttackFailed, check, count, type TargetScenario } from '../scenario';
import { downloadSupportLogs, logLines } from '../sinks';
import { BENDER, alertCheck, eventsCheck, login } from './juice';

export const WRONG_PASSWORDS = 30;

export const bruteForce: TargetScenario = {
  id: 'brute-force',
  title: 'Brute force on one account',
  a09: 'Auditable events such as logins and failed logins are not logged, and there is no alerting on them',
  cwe: 'CWE-778 (Insufficient Logging), CWE-307',
  attack: `${WRONG_PASSWORDS} wrong passwords for ${BENDER.email}, then the right one (POST /rest/user/login).`,
  scope: 'target',
  async run(run) {
    const statuses: number[] = [];
    for (let i = 0; i < WRONG_PASSWORDS; i++) {
      statuses.push((await login(run.http, BENDER.email, `guess-${run.nonce}-${i}`)).status);
    }
    const right = await login(run.http, BENDER.email, BENDER.password);
    if (right.token === undefined) throw new AttackFailed(`the right password did not log in (${right.status}): is ${BENDER.email} still ${BENDER.password}?`);
    const refused = statuses.filter((status) => status === 401).length;
    run.note(`${refused} of ${WRONG_PASSWORDS} guesses refused with 401, then the right password logged in: nothing slowed the guessing`);

    const view = await run.observe({ expectAlerts: ['authn_login_fail_max', 'authn_login_successafterfail'] });

    // What the attacker sees of the shop's own logs.
    const logs = await downloadSupportLogs(run.http);
    for (const file of logs.files) {
      const lines = logLines(file.text).filter((line) => line.includes('POST /rest/user/login') && / 401 /.test(line));
      if (lines.length > 0) {
        run.note(`${file.name}: ${count(lines.length, 'line')} "POST /rest/user/login ... 401": no account, no alert, readable by anyone`);
        run.sample(`${file.name} (downloaded from /support/logs)`, lines.slice(-3).join('\n'));
      }
    }
    const plain = view.rawContaining(BENDER.email);
    if (plain.length > 0) {
      run.note(`${count(plain.length, 'unstructured record')} at the collector name the account in clear text; no rule turns them into an alert`);
      run.sample(`collector record ${plain[0]!.id}`, plain[0]!.message ?? '');
    }

    const fails = view.ofType('authn_login_fail').filter((event) => event.who.emailId !== undefined);
    return {
      checks: [
        check(
          'events:authn_login_fail',
          `every failed login is recorded as authn_login_fail naming the account (${WRONG_PASSWORDS})`,
          fails.length >= WRONG_PASSWORDS,
          fails.length === 0 ? 'no authn_login_fail event reached the collector' : `${count(fails.length, 'authn_login_fail event')}, account ${fails[0]!.who.emailMasked ?? fails[0]!.who.emailId}`,
        ),
        alertCheck(view, 'authn_login_fail_max', 'an authn_login_fail_max alert for the account'),
        alertCheck(view, 'authn_login_successafterfail', 'a CRITICAL authn_login_successafterfail alert after the right password', (alert) =>
          alert.level === 'CRITICAL' ? undefined : `level ${alert.level}, not CRITICAL`,
        ),
        eventsCheck(view, 'authn_login_successafterfail', 1, 'the success after failures is recorded as authn_login_successafterfail'),
      ],
      view,
    };
  },
};
