import { check, type TargetScenario } from '../scenario';
import type { Check } from '../types';
import { JIM, forgeNone } from './juice';

/** An alert later than this is not real time. */
export const REAL_TIME_BUDGET_MS = 2000;

export const realTime: TargetScenario = {
  id: 'real-time',
  title: 'Time from attack to alert',
  a09: 'Alerts are not raised in real time or near real time (breaches are found months later)',
  cwe: 'CWE-778 (Insufficient Logging)',
  attack: "Three attacks a second apart (a SQL injection login, a probe for /.git/config, an unsigned token), each timed from its request to its alert; and the time to alert of every earlier scenario.",
  scope: 'target',
  async run(run) {
    const attacks: Array<{ label: string; alert: string; send: () => Promise<unknown> }> = [
      { label: 'SQL injection login', alert: 'malicious_sqli', send: () => run.http.postJson('/rest/user/login', { email: "' OR 1=1--", password: run.nonce }) },
      { label: 'probe for /.git/config', alert: 'malicious_probe', send: () => run.http.get('/.git/config') },
      { label: 'unsigned token', alert: 'authn_token_invalid', send: () => run.http.get(`/rest/basket/${JIM.basketId}`, { Authorization: `Bearer ${forgeNone({ data: { id: JIM.userId, email: JIM.email }, bid: JIM.basketId })}` }) },
    ];
    const sentAt: number[] = [];
    for (const [index, attack] of attacks.entries()) {
      if (index > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      sentAt.push(Date.now());
      await attack.send();
    }
    const view = await run.observe({ expectAlerts: attacks.map((attack) => attack.alert) });
    const checks: Check[] = attacks.map((attack, index) => {
      const alert = view.alertsOfType(attack.alert).find((a) => a.afterMs !== undefined);
      const ms = alert?.afterMs === undefined ? undefined : Math.max(0, Math.round(alert.afterMs + view.startedAt - sentAt[index]!));
      if (ms !== undefined) run.note(`${attack.label}: ${attack.alert} alert after ${ms} ms`);
      return check(
        `real-time:${attack.alert}`,
        `${attack.label} raises ${attack.alert} within ${REAL_TIME_BUDGET_MS} ms`,
        ms !== undefined && ms <= REAL_TIME_BUDGET_MS,
        ms === undefined ? 'no alert' : `${ms} ms (alert ${alert!.id.slice(0, 8)})`,
      );
    });
    for (const earlier of run.earlier) {
      const ms = earlier.result.evidence.timeToAlertMs;
      run.note(`${earlier.scenario.id}: ${ms === undefined ? 'no alert' : `first alert after ${ms} ms`}`);
    }
    return { checks, view };
  },
};
