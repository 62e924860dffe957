import { AttackFailed, check, count, type TargetScenario } from '../scenario';
import { downloadSupportLogs, findSecrets, recordSinks, supportLogSinks, varied, type Secret } from '../sinks';
import { JIM, canaryCard, eventsCheck, login } from './juice';

function changePasswordPath(current: string, next: string): string {
  const q = (value: string): string => encodeURIComponent(value);
  return `/rest/user/change-password?current=${q(current)}&new=${q(next)}&repeat=${q(next)}`;
}

export const secretsInLogs: TargetScenario = {
  id: 'secrets-in-logs',
  title: 'Secrets in logs',
  a09: 'Logs hold passwords, session tokens and card numbers, and whoever reads the logs gets them',
  cwe: 'CWE-532 (Insertion of Sensitive Information into Log File)',
  attack: `Change ${JIM.email}'s password to a canary and back (passwords in the query, as Juice Shop's change-password takes them), send Bearer tokens and a token cookie, search for a canary card number; then look for every canary in every sink.`,
  scope: 'target',
  async run(run) {
    const canaryPassword = `Canary-${run.nonce}-Pw!`;
    const card = canaryCard(run.nonce);
    const first = await login(run.http, JIM.email, JIM.password);
    if (first.token === undefined) throw new AttackFailed(`cannot log in as ${JIM.email} (${first.status}): is the password still ${JIM.password}?`);
    const changed = await run.http.get(changePasswordPath(JIM.password, canaryPassword), { Authorization: `Bearer ${first.token}` });
    if (changed.status !== 200) throw new AttackFailed(`change-password answered ${changed.status}: ${changed.text.slice(0, 80)}`);
    const second = await login(run.http, JIM.email, canaryPassword);
    if (second.token === undefined) throw new AttackFailed(`the canary password did not log in (${second.status}); ${JIM.email} may be left with ${canaryPassword}`);
    const restored = await run.http.get(changePasswordPath(canaryPassword, JIM.password), { Authorization: `Bearer ${second.token}` });
    if (restored.status !== 200) throw new AttackFailed(`could not restore ${JIM.email}'s password (${restored.status}); it is now ${canaryPassword}`);
    await run.http.get(`/rest/basket/${JIM.basketId}`, { Authorization: `Bearer ${second.token}` });
    await run.http.get('/rest/user/whoami', { Cookie: `token=${second.token}` });
    await run.http.get(`/rest/products/search?q=${card}`);
    run.note(`changed ${JIM.email}'s password to a canary and back with the passwords in the URL, used two tokens, searched for a card number`);

    const view = await run.observe({ expectAlerts: [] });
    const logs = await downloadSupportLogs(run.http);
    const secrets: Secret[] = [
      { what: 'canary password', value: canaryPassword },
      { what: `${JIM.email}'s password`, value: JIM.password },
      { what: 'session token', value: first.token },
      { what: 'session token', value: second.token },
      { what: 'token signature', value: first.token.split('.')[2] ?? '' },
      { what: 'token signature', value: second.token.split('.')[2] ?? '' },
      { what: 'card number', value: card },
    ];
    if (encodeURIComponent(canaryPassword) !== canaryPassword) secrets.push({ what: 'canary password (URL-encoded)', value: encodeURIComponent(canaryPassword) });
    const sinks = [...recordSinks(view.records), ...supportLogSinks(logs), ...run.consoleSinks()];
    const leaks = findSecrets(sinks, secrets);
    for (const leak of varied(leaks, 12)) run.leak(leak);
    const downloadable = leaks.filter((leak) => leak.sink.startsWith('/support/logs'));
    if (downloadable.length > 0) run.note(`the attacker downloaded ${downloadable[0]!.what} from ${downloadable[0]!.sink.split(' ')[0]}`);
    const kinds = [...new Set(leaks.map((leak) => leak.what))];
    return {
      checks: [
        check(
          'no-canary',
          'no canary (password, token, card number) in any sink: collector records, /support/logs, console',
          leaks.length === 0,
          leaks.length === 0 ? 'none found' : `${count(leaks.length, 'leak')} (${kinds.join(', ')}), e.g. ${leaks[0]!.sink}`,
        ),
        eventsCheck(view, 'authn_password_change', 2, 'both password changes are recorded (authn_password_change), without the passwords'),
      ],
      view,
    };
  },
};
