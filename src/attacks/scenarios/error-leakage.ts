import type { AttackResponse } from '../http';
import { check, count, type TargetScenario } from '../scenario';
import { excerpt } from '../sinks';

const LEAK_PATTERNS: Array<{ what: string; pattern: RegExp }> = [
  { what: 'stack trace', pattern: /\bat [\w$.<>[\] ]+ \(?[^\s()]+:\d+:\d+\)?/ },
  { what: 'SQL', pattern: /SQLITE_ERROR|SequelizeDatabaseError|\bSELECT\b[^\n]{0,80}\bFROM\b/i },
  { what: 'server path', pattern: /(?:\/(?:home|usr|opt|srv|tmp|var|app|juice-shop|work)\/[\w.@+-]+\/[\w./@+-]+|[A-Z]:\\[\w\\.-]+|node_modules)/ },
  { what: 'error class', pattern: /\b(?:SyntaxError|TypeError|ReferenceError|UnauthorizedError): / },
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export function leaksIn(response: AttackResponse): Array<{ what: string; excerpt: string }> {
  const found: Array<{ what: string; excerpt: string }> = [];
  for (const { what, pattern } of LEAK_PATTERNS) {
    const match = pattern.exec(response.text);
    if (match !== null) found.push({ what, excerpt: excerpt(response.text, match.index, match[0].length, 40) });
  }
  return found;
}

export const errorLeakage: TargetScenario = {
  id: 'error-leakage',
  title: 'Error details to the attacker, no incident',
  a09: 'Errors show the attacker internals instead of being logged as incidents the defenders can find',
  cwe: 'CWE-209 (Information Exposure Through an Error Message), CWE-778',
  attack: "Malformed JSON and a lone quote to the login, `'))` to the product search (JSON error answer).",
  scope: 'target',
  async run(run) {
    const probes: Array<{ label: string; send: () => Promise<AttackResponse> }> = [
      { label: 'malformed JSON to the login', send: () => run.http.request('POST', '/rest/user/login', { headers: { 'Content-Type': 'application/json' }, body: '{"email":' }) },
      { label: 'a quote in the login email', send: () => run.http.postJson('/rest/user/login', { email: "'", password: `x-${run.nonce}` }) },
      { label: "`'))` in the search", send: () => run.http.get(`/rest/products/search?q=${encodeURIComponent("'))")}`, { Accept: 'application/json' }) },
    ];
    const answers: Array<{ label: string; response: AttackResponse }> = [];
    for (const probe of probes) answers.push({ label: probe.label, response: await probe.send() });
    const view = await run.observe({ expectAlerts: [] });

    const leaked: string[] = [];
    const incidents: string[] = [];
    for (const { label, response } of answers) {
      const leaks = leaksIn(response);
      const incident = UUID.exec(response.text)?.[0];
      if (incident !== undefined) incidents.push(incident.toLowerCase());
      run.note(`${label} -> ${response.status}: ${leaks.length > 0 ? `${leaks.map((l) => l.what).join(', ')} in the answer` : 'no internals'}${incident !== undefined ? `, incident ${incident}` : ''}`);
      for (const leak of leaks) {
        leaked.push(`${leak.what} (${label})`);
        run.leak({ sink: `answer to ${label} (seen by the attacker)`, what: leak.what, excerpt: leak.excerpt });
      }
    }
    const errors = view.ofType('sys_error');
    const recorded = new Set(errors.map((event) => String(event.detail.incidentId ?? '').toLowerCase()));
    const matched = incidents.filter((id) => recorded.has(id));
    const serverErrors = answers.filter((a) => a.response.status >= 500).length;
    return {
      checks: [
        check('no-internals', 'no answer shows a stack trace, SQL, a server path or an error class', leaked.length === 0, leaked.length === 0 ? 'none' : leaked.slice(0, 6).join('; ')),
        check('incident-id', 'each error answer gives an incident id', incidents.length >= serverErrors && serverErrors > 0, `${count(incidents.length, 'incident id')} in ${count(serverErrors, 'error answer')}`),
        check('incident-recorded', 'each incident id matches a sys_error event at the collector', matched.length > 0 && matched.length === incidents.length, errors.length === 0 ? 'no sys_error event reached the collector' : `${matched.length} of ${incidents.length} matched (${count(errors.length, 'sys_error event')})`),
      ],
      view,
    };
  },
};
