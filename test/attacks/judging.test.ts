/**
 * Scenarios judged on crafted evidence: a stub target answers, the collector window is written by hand.
 * Both directions: a fixed target that leaks, logs forged lines or raises no alert is "NOT fixed"; a
 * stock or naive target that shows the failure is "failure shown".
 */
import { errorLeakage } from '../../src/attacks/scenarios/error-leakage';
import { canaryCard } from '../../src/attacks/scenarios/juice';
import { injectionPayloads, logInjection } from '../../src/attacks/scenarios/log-injection';
import { secretsInLogs } from '../../src/attacks/scenarios/secrets-in-logs';
import { sqliLogin } from '../../src/attacks/scenarios/sqli-login';
import { alert, eventRecord, judge, juiceLogin, rawRecord, type Handler } from './fakes';

const request = (url: string, status = 200, method = 'GET') => ({
  who: { ip: '127.9.9.9', userAgent: 'Mozilla/5.0' },
  where: { method, route: url.split('?')[0], url, requestId: `req-${Math.random()}`, status },
});

describe('secrets-in-logs', () => {
  const nonce = 'c0ffee1234';
  const canary = `Canary-${nonce}-Pw!`;
  const passwords = { 'jim@juice-sh.op': 'ncc-1701' };
  const shop = (logs?: string): Handler => {
    const login = juiceLogin(passwords);
    return (method, path, options) => {
      if (path.startsWith('/rest/user/change-password')) {
        const next = new URL(`http://x${path}`).searchParams.get('new') ?? '';
        passwords['jim@juice-sh.op'] = next;
        return { status: 200, text: '{"user":{}}' };
      }
      if (path === '/support/logs') return logs === undefined ? { status: 404 } : { status: 200, text: '["access.log.today"]' };
      if (path.startsWith('/support/logs/')) return logs === undefined ? { status: 404 } : { status: 200, text: logs };
      if (path === '/rest/user/login') return login(method, path, options);
      return { status: 200, text: '{}' };
    };
  };
  const changes = () => [
    eventRecord({ type: 'authn_password_change', outcome: 'success', email: 'jim@juice-sh.op', ...request('/rest/user/change-password?current=[REDACTED]') }),
    eventRecord({ type: 'authn_password_change', outcome: 'success', email: 'jim@juice-sh.op', ...request('/rest/user/change-password?current=[REDACTED]') }),
  ];

  beforeEach(() => {
    passwords['jim@juice-sh.op'] = 'ncc-1701';
  });

  it('calls a fixed target fixed when no canary is in any sink and both changes are recorded', async () => {
    const judged = await judge(secretsInLogs, { kind: 'fixed', nonce, handler: shop(), records: changes });
    expect(judged.checks.map((c) => [c.id, c.passed])).toEqual([['no-canary', true], ['events:authn_password_change', true]]);
    expect(judged.verdict.status).toBe('fixed');
    // It really changed the password to the canary and back.
    expect(judged.client.sent.filter((s) => s.path.startsWith('/rest/user/change-password')).map((s) => new URL(`http://x${s.path}`).searchParams.get('new'))).toEqual([canary, 'ncc-1701']);
  });

  it('calls a fixed target NOT fixed when one record holds the canary password', async () => {
    const judged = await judge(secretsInLogs, {
      kind: 'fixed',
      nonce,
      handler: shop(),
      records: () => {
        const leaky = eventRecord({ type: 'http_request', outcome: 'success', ...request('/rest/user/change-password') });
        leaky.event!.detail.debug = `query new ${canary}`;
        return [...changes(), leaky];
      },
    });
    expect(judged.verdict.status).toBe('NOT fixed');
    expect(judged.leaks).toEqual([expect.objectContaining({ what: 'canary password', sink: expect.stringMatching(/^collector record \d+$/) })]);
  });

  it('calls a fixed target NOT fixed when the card number reaches its console', async () => {
    const judged = await judge(secretsInLogs, { kind: 'fixed', nonce, handler: shop(), records: changes, console: `search ${canaryCard(nonce)}\n` });
    expect(judged.verdict.status).toBe('NOT fixed');
    expect(judged.leaks.map((l) => [l.sink, l.what])).toEqual([['console', 'card number']]);
  });

  it('shows the failure on a stock shop whose downloadable access log holds the passwords', async () => {
    const line = `127.0.0.1 - - [27/Nov/2026:19:37:04 +0000] "GET /rest/user/change-password?current=ncc-1701&new=${canary}&repeat=${canary} HTTP/1.1" 200 344 "-" "Mozilla/5.0"`;
    const judged = await judge(secretsInLogs, { kind: 'stock', nonce, handler: shop(`${line}\n`) });
    expect(judged.verdict).toEqual({ status: 'failure shown', label: 'failure shown', expected: true });
    expect(judged.leaks.map((l) => l.what)).toEqual(expect.arrayContaining(['canary password', "jim@juice-sh.op's password"]));
    expect(judged.leaks[0]!.sink).toMatch(/^\/support\/logs\/access\.log\.today/);
  });
});

describe('sqli-login', () => {
  const handler = juiceLogin({});
  const events = () => [
    eventRecord({ type: 'malicious_sqli', outcome: 'allowed', level: 'CRITICAL', severity: 1, ...request('/rest/user/login', 200, 'POST') }),
    eventRecord({ type: 'malicious_sqli', outcome: 'allowed', level: 'CRITICAL', severity: 1, ...request('/rest/user/login', 200, 'POST') }),
  ];

  it('is fixed with CRITICAL events and a CRITICAL alert', async () => {
    const judged = await judge(sqliLogin, { kind: 'fixed', handler, records: events, alerts: [alert('malicious_sqli')] });
    expect(judged.verdict.status).toBe('fixed');
  });

  it('is NOT fixed when the events arrive but no alert is raised', async () => {
    const judged = await judge(sqliLogin, { kind: 'fixed', handler, records: events, alerts: [alert('malicious_payload')] });
    expect(judged.verdict.status).toBe('NOT fixed');
    expect(judged.checks.find((c) => c.id === 'alert:malicious_sqli')?.detail).toBe('no malicious_sqli alert (alerts seen: malicious_payload)');
  });

  it('is NOT fixed when the alert is only a warning', async () => {
    const judged = await judge(sqliLogin, { kind: 'fixed', handler, records: events, alerts: [alert('malicious_sqli', { level: 'WARN' })] });
    expect(judged.verdict.status).toBe('NOT fixed');
  });

  it('is an error, not a verdict, when the injection does not log in', async () => {
    await expect(judge(sqliLogin, { kind: 'stock', handler: () => ({ status: 401, text: 'Invalid email or password.' }) })).rejects.toThrow(/not vulnerable/);
  });
});

describe('log-injection', () => {
  const nonce = 'feed5678ab';
  const handler: Handler = (method) => (method === 'POST' ? { status: 401, text: 'Invalid email or password.' } : { status: 404 });
  /** One http_request per request (3 logins, 1 search) and the payload kept, escaped. */
  const clean = () => [
    ...Array.from({ length: 3 }, () => eventRecord({ type: 'http_request', outcome: 'failure', ...request('/rest/user/login', 401, 'POST') })),
    eventRecord({ type: 'http_request', outcome: 'success', ...request(`/rest/products/search?q=a09-${nonce}`) }),
    eventRecord({ type: 'malicious_sqli', outcome: 'blocked', ...request('/rest/user/login', 401, 'POST'), detail: { input: `a09-${nonce}' '\n<134>1 forged` } }),
  ];

  it('shows the failure when a naive record carries a forged login line', async () => {
    const judged = await judge(logInjection, {
      kind: 'naive',
      nonce,
      handler,
      records: () => [rawRecord(`warn: Failed login for a09-${nonce}@juice-sh.op\r\ninfo: User admin@juice-sh.op logged in [a09-lab ${nonce}]`)],
    });
    expect(judged.verdict.status).toBe('failure shown');
    expect(judged.checks.find((c) => c.id === 'no-forged-record')?.passed).toBe(false);
    expect(judged.leaks[0]).toMatchObject({ what: 'forged record', sink: expect.stringMatching(/, line 2$/) });
    // The evidence shows the forged line inert.
    expect(judged.leaks[0]!.excerpt).not.toMatch(/[\r\n]/);
  });

  it('is fixed when every record is inert, one per request, with the payload escaped', async () => {
    const judged = await judge(logInjection, { kind: 'fixed', nonce, handler, records: clean });
    expect(judged.checks.map((c) => [c.id, c.passed])).toEqual([
      ['no-forged-record', true],
      ['no-raw-controls', true],
      ['one-record-per-request', true],
      ['payload-visible', true],
    ]);
    expect(judged.verdict.status).toBe('fixed');
  });

  it('is NOT fixed when a stored event still holds a raw line separator', async () => {
    const judged = await judge(logInjection, {
      kind: 'fixed',
      nonce,
      handler,
      records: () => {
        const records = clean();
        records[0]!.event!.who.userAgent = 'Mozilla\u2028forged';
        return records;
      },
    });
    expect(judged.verdict.status).toBe('NOT fixed');
    expect(judged.checks.find((c) => c.id === 'no-raw-controls')?.passed).toBe(false);
  });

  it('is NOT fixed when the console prints a forged RFC 5424 line', async () => {
    const forged = injectionPayloads(nonce).forged[1];
    const judged = await judge(logInjection, { kind: 'fixed', nonce, handler, records: clean, console: `SequelizeDatabaseError: SQLITE_ERROR: near "'\n${forged}'": syntax error\n    at login (/srv/routes/login.js:18:26)\n` });
    expect(judged.verdict.status).toBe('NOT fixed');
  });
});

describe('error-leakage', () => {
  const incident = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
  it('is NOT fixed when an answer carries a stack trace, even with an incident id', async () => {
    const judged = await judge(errorLeakage, {
      kind: 'fixed',
      handler: () => ({ status: 500, text: `Error (incident ${incident})\nSyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at jsonParser (/srv/shop/build/server.js:65:33)` }),
      records: () => [eventRecord({ type: 'sys_error', outcome: 'error', detail: { incidentId: incident } })],
    });
    expect(judged.verdict.status).toBe('NOT fixed');
    expect(judged.leaks.map((l) => l.what)).toEqual(expect.arrayContaining(['stack trace', 'server path', 'error class']));
  });

  it('is fixed with generic answers whose incident ids match sys_error events', async () => {
    const judged = await judge(errorLeakage, {
      kind: 'fixed',
      handler: () => ({ status: 500, text: `500 Internal Server Error (incident ${incident})\n` }),
      records: () => [eventRecord({ type: 'sys_error', outcome: 'error', detail: { incidentId: incident } })],
    });
    expect(judged.verdict.status).toBe('fixed');
  });
});
