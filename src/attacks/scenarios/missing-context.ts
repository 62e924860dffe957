import { VOCABULARY, type AuditEvent } from '../../events';
import { AttackFailed, check, count, type TargetScenario } from '../scenario';
import { downloadSupportLogs, logLines } from '../sinks';
import { JIM, login } from './juice';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function missingWho(event: AuditEvent): string | undefined {
  const info = VOCABULARY[event.type];
  if (info.requestBound && event.who.ip === undefined) return 'no source address';
  if (info.actorBound && event.who.userId === undefined && event.who.emailId === undefined) return 'no account';
  return undefined;
}

function missingWhere(event: AuditEvent): string | undefined {
  if (!event.host || !event.app || !event.instance) return 'no host/app/instance';
  if (VOCABULARY[event.type].requestBound && (event.where.route === undefined || event.where.method === undefined || event.where.requestId === undefined)) {
    return 'no route, method or request id';
  }
  return undefined;
}

export const missingContext: TargetScenario = {
  id: 'missing-context',
  title: 'Records without who, what, when, where',
  a09: 'Log records lack the context to reconstruct an incident: who, what, when, where',
  cwe: 'CWE-223 (Omission of Security-relevant Information)',
  attack: `A failed and a successful login as ${JIM.email}, a basket read and a search; then read what each sink recorded about them.`,
  scope: 'target',
  async run(run) {
    await login(run.http, JIM.email, `wrong-${run.nonce}`);
    const session = await login(run.http, JIM.email, JIM.password);
    if (session.token === undefined) throw new AttackFailed(`cannot log in as ${JIM.email} (${session.status})`);
    await run.http.get(`/rest/basket/${session.bid ?? JIM.basketId}`, { Authorization: `Bearer ${session.token}` });
    await run.http.get(`/rest/products/search?q=a09-${run.nonce}`);
    const sent = run.http.exchanges.length;
    const view = await run.observe({ expectAlerts: [] });

    const logs = await downloadSupportLogs(run.http);
    for (const file of logs.files) {
      const line = logLines(file.text).reverse().find((l) => l.includes('POST /rest/user/login'));
      if (line !== undefined) run.sample(`${file.name}: a login as the access log records it (no account, no outcome but the status)`, line);
    }
    const raw = view.records.find((record) => record.event === undefined && (record.message ?? '').includes('login'));
    if (raw !== undefined) run.sample(`collector record ${raw.id}: a login as the naive logger records it`, `${raw.timestamp ?? ''} ${raw.host ?? ''} ${raw.message ?? ''}`.slice(0, 500));

    const events = view.events.filter((event) => VOCABULARY[event.type].requestBound);
    const login401 = view.ofType('authn_login_fail');
    const loginOk = view.ofType('authn_login_success').concat(view.ofType('authn_login_successafterfail'));
    const noWho = events.map(missingWho).filter((x) => x !== undefined);
    const noWhere = events.map(missingWhere).filter((x) => x !== undefined);
    const badTime = view.events.filter((event) => !ISO_MS.test(event.time));
    const sample = loginOk[0] ?? login401[0];
    if (sample !== undefined) run.sample('a login as the fixed target records it', JSON.stringify({ type: sample.type, outcome: sample.outcome, time: sample.time, who: sample.who, where: sample.where, host: sample.host, app: sample.app }));
    const correlated = loginOk.length > 0 && loginOk.every((event) => view.ofType('http_request').some((r) => r.where.requestId === event.where.requestId));
    return {
      checks: [
        check(
          'what',
          'every security-relevant action is a typed event with an outcome (failed login, login, request)',
          login401.length >= 1 && loginOk.length >= 1 && view.ofType('http_request').length >= sent,
          `${count(login401.length, 'authn_login_fail')}, ${count(loginOk.length, 'successful login')}, ${count(view.ofType('http_request').length, 'http_request')} for ${count(sent, 'request')}${view.records.length > view.events.length ? `; ${count(view.records.length - view.events.length, 'unstructured record')}` : ''}`,
        ),
        check('who', 'every request event names the source address, and the account where there is one', events.length > 0 && noWho.length === 0, events.length === 0 ? 'no events' : noWho.length === 0 ? `all ${events.length} do` : `${noWho.length} lack it (${noWho[0]})`),
        check('when', 'every event carries an ISO 8601 UTC time with milliseconds', view.events.length > 0 && badTime.length === 0, view.events.length === 0 ? 'no events' : badTime.length === 0 ? `all ${view.events.length} do` : `${badTime.length} do not`),
        check('where', 'every event names host, application, instance, route, method and request id', events.length > 0 && noWhere.length === 0, events.length === 0 ? 'no events' : noWhere.length === 0 ? `all ${events.length} do` : `${noWhere.length} lack it (${noWhere[0]})`),
        check('correlation', "a login's events share the request id of its http_request", correlated, correlated ? 'they do' : 'no login event could be tied to its request'),
      ],
      view,
    };
  },
};
