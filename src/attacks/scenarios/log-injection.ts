import { check, count, listIds, type TargetScenario } from '../scenario';
import type { ApiRecord } from '../collector-client';
import { downloadSupportLogs, excerpt, logLines, recordSinks, supportLogSinks, type SinkText } from '../sinks';
import type { LeakEvidence } from '../types';

/** Characters that end a line or rewrite a terminal in some viewer: none may reach a record raw. */
const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export interface InjectionPayloads {
  /** Lines an attacker wants to appear as records of their own. */
  forged: string[];
  /** Login emails carrying them. */
  emails: string[];
  /** A Basic credential whose user name carries one (morgan logs :remote-user). */
  basicUser: string;
}

export function injectionPayloads(nonce: string, now = new Date()): InjectionPayloads {
  const forgedLogin = `info: User admin@juice-sh.op logged in [a09-lab ${nonce}]`;
  const forgedSyslog = `<134>1 ${now.toISOString()} juice-shop juice-shop - authn_login_success [a09@32473 outcome="success"] a09-lab ${nonce}`;
  const forgedAccess = `127.0.0.1 - admin [a09-lab ${nonce}] "POST /rest/user/login HTTP/1.1" 200 799 "-" "Mozilla/5.0"`;
  return {
    forged: [forgedLogin, forgedSyslog, forgedAccess],
    emails: [
      // CR/LF and a forged line in the naive team's own format.
      `a09-${nonce}@juice-sh.op\r\n${forgedLogin}`,
      // Quotes that make SQLite quote the forged RFC 5424 header in its error (`near "'\n<134>1 ...'"`),
      // which errorhandler prints to the console, line break and all.
      `a09-${nonce}' '\n${forgedSyslog}`,
      // U+2028, NEL, ANSI "cursor up, erase line" (hides the line before on a terminal), bidi override.
      `a09-${nonce}\u2028${forgedLogin}\u0085\u001b[1A\u001b[2K\u202e@juice-sh.op`,
    ],
    basicUser: `a09-${nonce}\n${forgedAccess}\n`,
  };
}

/** Lines of the sinks that begin with a forged text: what a line-oriented reader takes for a record. */
export function forgedLines(sinks: readonly SinkText[], forged: readonly string[], nonce: string): LeakEvidence[] {
  const found: LeakEvidence[] = [];
  for (const sink of sinks) {
    logLines(sink.text).forEach((line, index) => {
      // What a terminal shows: ANSI sequences do not print.
      const shown = line.replace(/\u001b\[[\d;]*[A-Za-z]/g, '').trimStart();
      // Every forged text names `a09-lab <nonce>`; a real line never starts like one and names it.
      if (shown.includes(`a09-lab ${nonce}`) && forged.some((text) => shown.startsWith(text.slice(0, 7)))) {
        found.push({ sink: `${sink.sink}, line ${index + 1}`, what: 'forged record', excerpt: excerpt(line, 0, Math.min(line.length, 160), 0) });
      }
    });
  }
  return found;
}

/** Every string inside a value (an event's fields). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) strings(item, out);
  return out;
}

/** A record whose text still holds a raw control character or separator. */
export function hasRawControls(record: ApiRecord): boolean {
  if (record.message !== undefined && RAW_CONTROL.test(record.message)) return true;
  return strings(record.event).some((text) => RAW_CONTROL.test(text)) || strings(record.sd).some((text) => RAW_CONTROL.test(text));
}

export const logInjection: TargetScenario = {
  id: 'log-injection',
  title: 'Log injection: forged records',
  a09: 'Log data is not encoded correctly, so an attacker writes records of their own',
  cwe: 'CWE-117 (Improper Output Neutralization for Logs)',
  attack: 'CR/LF, U+2028, NEL, ANSI escapes, a bidi override and a forged RFC 5424 header in the login email, and a forged access-log line in a Basic user name.',
  scope: 'target',
  async run(run) {
    const payloads = injectionPayloads(run.nonce);
    for (const email of payloads.emails) {
      const response = await run.http.postJson('/rest/user/login', { email, password: `x-${run.nonce}` });
      run.note(`login with a forged line in the email -> ${response.status}`);
    }
    const basic = Buffer.from(`${payloads.basicUser}:x`).toString('base64');
    await run.http.get(`/rest/products/search?q=a09-${run.nonce}`, { Authorization: `Basic ${basic}` });
    const sent = run.http.exchanges.length;
    const view = await run.observe({ expectAlerts: [] });

    const logs = await downloadSupportLogs(run.http);
    const sinks = [...recordSinks(view.records), ...supportLogSinks(logs), ...run.consoleSinks()];
    const forged = forgedLines(sinks, payloads.forged, run.nonce);
    for (const leak of forged.slice(0, 10)) run.leak(leak);
    if (forged.length > 0) run.note(`a forged record appeared: ${forged[0]!.sink}`);

    const withControls = view.records.filter(hasRawControls);
    const requests = view.ofType('http_request').length;
    const visible = view.events.filter((event) => {
      const text = JSON.stringify(event);
      return text.includes(run.nonce) && /\\\\(n|r|u2028|x1b|u0085|u202e)/.test(text);
    });
    if (visible[0] !== undefined) run.sample('the payload as a fixed event records it (escaped, inert)', JSON.stringify(visible[0].detail).slice(0, 600));
    if (withControls[0] !== undefined) run.sample(`collector record ${withControls[0].id} (raw control characters inside)`, excerpt(withControls[0].message ?? '', 0, 300, 0));

    return {
      checks: [
        check('no-forged-record', 'no forged line appears as a record in any sink (collector, /support/logs, console)', forged.length === 0, forged.length === 0 ? 'none found' : `${count(forged.length, 'forged record')}: ${forged.map((f) => f.sink).slice(0, 4).join('; ')}`),
        check(
          'no-raw-controls',
          'no stored record holds a raw line break, ANSI escape or Unicode separator',
          withControls.length === 0 && view.records.length > 0,
          view.records.length === 0 ? 'nothing reached the collector' : withControls.length === 0 ? `${count(view.records.length, 'record')}, all inert` : `records ${listIds(withControls.map((r) => r.id))} hold raw control characters`,
        ),
        check('one-record-per-request', `one http_request record per request (${sent})`, requests === sent, `${count(requests, 'http_request event')} for ${count(sent, 'request')}`),
        check('payload-visible', 'the payload is kept as evidence, escaped (\\n, \\u2028, \\x1b visible)', visible.length > 0, visible.length > 0 ? `records ${listIds(view.records.filter((r) => r.event !== undefined && visible.includes(r.event)).map((r) => r.id))}` : 'no event shows the payload escaped'),
      ],
      view,
    };
  },
};
