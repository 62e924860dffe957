import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Alert, type AlertChange, createDetector, createEscalator, defaultDetectionConfig, formatAlertRfc5424 } from '../../src/detect';
import { haveRsyslogd, type Rsyslog, startRsyslog } from './rsyslog';
import { ManualClock, Traffic } from './traffic';

function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: '6f1c1f1e-8d7e-4a55-9c1e-0d6b9a3c2b10',
    ruleId: 'brute_force_account',
    type: 'authn_login_fail_max',
    title: 'Brute force on one account',
    severity: 2,
    level: 'CRITICAL',
    key: { kind: 'account', value: 'email:0123456789abcdef01234567', emailId: '0123456789abcdef01234567', emailMasked: 'a**@juice-sh.op' },
    state: 'open',
    firstAt: '2026-01-15T09:00:00.000Z',
    lastAt: '2026-01-15T09:00:40.000Z',
    count: 5,
    revision: 0,
    records: [{ recordId: 1, seq: 1 }],
    summary: '5 authn_login_fail for account a**@juice-sh.op',
    ...overrides,
  };
}

describe('the alert as an RFC 5424 line', () => {
  it('is severity 1 (alert) in the PRI whatever the alert severity, with the alert in SD and MSG', () => {
    const line = formatAlertRfc5424({ kind: 'alert', alert: sampleAlert() }, { host: 'collector-1', procId: '42', nowMs: Date.UTC(2026, 0, 15, 9, 0, 41) });
    expect(line.startsWith('<105>1 2026-01-15T09:00:41.000Z collector-1 a09-detect 42 authn_login_fail_max [a09alert@32473 change="alert" id="6f1c1f1e-8d7e-4a55-9c1e-0d6b9a3c2b10" rule="brute_force_account" severity="2" level="CRITICAL" state="open" count="5"')).toBe(true);
    const msg = JSON.parse(line.slice(line.indexOf('] {') + 2)) as { alert: Alert; change: string };
    expect(msg.change).toBe('alert');
    expect(msg.alert.count).toBe(5);
    expect(formatAlertRfc5424({ kind: 'alert', alert: sampleAlert() }, { facility: 4 }).startsWith('<33>1 ')).toBe(true);
  });

  it('cannot be split or have its SD broken by hostile text in the alert', () => {
    const hostile = 'x"] [forged@1 a="b"]\n<13>1 2026-01-15T00:00:00Z evil app - - - injected\u2028\\';
    const line = formatAlertRfc5424({ kind: 'alert', alert: sampleAlert({ type: 'bad type\n', summary: hostile, key: { kind: 'ip', value: `ip:${hostile}`, ip: hostile } }) });
    expect(line).toMatch(/^[\x20-\x7e]+$/);
    const parsed = scanStructuredData(line);
    expect(parsed.elements).toEqual(['a09alert@32473']);
    expect(parsed.params.summary).toBeUndefined();
    expect(parsed.params.ip).toContain('[forged@1 a=\\"b\\"\\]');
    expect(parsed.rest.startsWith(' {')).toBe(true);
    expect(line).toContain(' bad\\x20type\\x0a ');
  });
});

/**
 * Scan the SD of an RFC 5424 line by the grammar (PARAM-VALUE escapes `\\`, `\"`, `\]`): the elements, the
 * params (values as written) and what follows the SD.
 */
function scanStructuredData(line: string): { elements: string[]; params: Record<string, string>; rest: string } {
  let at = 0;
  for (let spaces = 0; spaces < 6; at++) if (line[at] === ' ') spaces++;
  const elements: string[] = [];
  const params: Record<string, string> = {};
  while (line[at] === '[') {
    const idEnd = line.slice(at).search(/[ \]]/) + at;
    elements.push(line.slice(at + 1, idEnd));
    at = idEnd;
    while (line[at] === ' ') {
      const eq = line.indexOf('="', at);
      const name = line.slice(at + 1, eq);
      let value = '';
      at = eq + 2;
      while (line[at] !== '"') {
        if (line[at] === '\\') value += line[at++];
        value += line[at++];
      }
      params[name] = value;
      at++;
    }
    expect(line[at]).toBe(']');
    at++;
  }
  return { elements, params, rest: line.slice(at) };
}

const describeRsyslog = haveRsyslogd ? describe : describe.skip;
if (!haveRsyslogd) console.warn('SKIPPED: /usr/sbin/rsyslogd is not installed; the upstream escalation tests did not run');

describeRsyslog('escalation to a real rsyslogd upstream', () => {
  let upstream: Rsyslog;
  beforeAll(async () => {
    upstream = await startRsyslog();
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  it.each(['tcp', 'udp'] as const)('over %s: the detector alert arrives at severity 1 with its fields', async (protocol) => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const port = protocol === 'tcp' ? upstream.tcpPort : upstream.udpPort;
    const escalator = createEscalator({ syslog: { url: `${protocol}://127.0.0.1:${port}`, host: 'a09-collector' } }, { now: clock.now });
    escalator.attach(detector);
    const email = `victim-${protocol}@juice-sh.op`;
    let opened: Alert[] = [];
    for (let i = 0; i < 5; i++) opened = detector.onRecord(traffic.loginFail('203.0.113.9', email));
    // A hostile raw record: its text must not forge a second record upstream.
    detector.onRecord(traffic.raw(`GET /?q=<script>x</script>\n<13>1 2026-01-15T00:00:00Z forged-${protocol} app - - - injected`));
    expect(await escalator.flush(10_000)).toBe(true);
    try {
      const line = await upstream.waitForLine((l) => l.includes(opened[0].id));
      const [severity, facility, app, msgid] = line.split('|');
      expect([severity, facility, app, msgid]).toEqual(['1', '13', 'a09-detect', 'authn_login_fail_max']);
      expect(line).toContain('rule="brute_force_account"');
      expect(line).toContain(`emailMasked="v**@juice-sh.op"`);
      expect(line).toContain('count="5"');
      const payloadLine = await upstream.waitForLine((l) => l.includes('web_payload_marker') && l.includes(`forged-${protocol}`));
      expect(payloadLine.startsWith('1|13|a09-detect|malicious_payload|')).toBe(true);
      expect(upstream.lines().filter((l) => l.includes(`forged-${protocol}`))).toHaveLength(1);
      expect(upstream.lines().some((l) => l.startsWith(`forged-${protocol}`) || l.includes('|injected'))).toBe(false);
    } finally {
      await escalator.close();
    }
    expect(escalator.stats().syslog).toMatchObject({ sent: 2, dropped: 0 });
  });
});

interface Hook {
  url: string;
  bodies: string[];
  close: () => Promise<void>;
}

/** A local webhook answering with the given statuses in turn (the last one repeats); 0 never answers. */
async function startHook(statuses: number[]): Promise<Hook> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
      if (status === 0) return;
      response.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
      response.end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const fastBackoff = { initialMs: 1, maxMs: 4 };

describe('escalation to a webhook', () => {
  it('retries a webhook that fails twice, then delivers the same JSON once it succeeds', async () => {
    const hook = await startHook([500, 503, 200]);
    const escalator = createEscalator({ webhook: { url: hook.url, backoff: fastBackoff, headers: { authorization: 'Bearer test-token' } } });
    try {
      const change: AlertChange = { kind: 'alert', alert: sampleAlert() };
      escalator.escalate(change);
      expect(await escalator.flush(10_000)).toBe(true);
      expect(hook.bodies).toHaveLength(3);
      expect(new Set(hook.bodies).size).toBe(1);
      const body = JSON.parse(hook.bodies[0]) as { text: string; change: string; alert: Alert };
      expect(body.change).toBe('alert');
      expect(body.alert).toMatchObject({ id: change.alert.id, ruleId: 'brute_force_account', count: 5 });
      expect(body.text).toBe('[CRITICAL] Brute force on one account (opened, count 5): 5 authn_login_fail for account a**@juice-sh.op');
      expect(escalator.stats().webhook).toMatchObject({ delivered: 1, retries: 2, failed: 0, dropped: 0, queued: 0 });
    } finally {
      await escalator.close();
      await hook.close();
    }
  });

  it('gives up after maxAttempts, and at once on a 4xx refusal', async () => {
    const down = await startHook([503]);
    const refusing = await startHook([400]);
    const toDown = createEscalator({ webhook: { url: down.url, backoff: fastBackoff, maxAttempts: 3 } });
    const toRefusing = createEscalator({ webhook: { url: refusing.url, backoff: fastBackoff, maxAttempts: 3 } });
    try {
      toDown.escalate({ kind: 'alert', alert: sampleAlert() });
      toRefusing.escalate({ kind: 'alert', alert: sampleAlert() });
      expect(await toDown.flush(10_000)).toBe(true);
      expect(await toRefusing.flush(10_000)).toBe(true);
      expect(down.bodies).toHaveLength(3);
      expect(refusing.bodies).toHaveLength(1);
      expect(toDown.stats().webhook).toMatchObject({ delivered: 0, retries: 2, failed: 1, lastError: 'webhook answered 503' });
      expect(toRefusing.stats().webhook).toMatchObject({ delivered: 0, retries: 0, failed: 1, lastError: 'webhook answered 400' });
    } finally {
      await toDown.close();
      await toRefusing.close();
      await down.close();
      await refusing.close();
    }
  });

  it('times out a webhook that never answers', async () => {
    const silent = await startHook([0]);
    const escalator = createEscalator({ webhook: { url: silent.url, backoff: fastBackoff, maxAttempts: 2, timeoutMs: 50 } });
    try {
      escalator.escalate({ kind: 'alert', alert: sampleAlert() });
      expect(await escalator.flush(10_000)).toBe(true);
      expect(escalator.stats().webhook).toMatchObject({ failed: 1, retries: 1, lastError: 'webhook timed out after 50 ms' });
    } finally {
      await escalator.close();
      await silent.close();
    }
  });

  it('a dead webhook never blocks detection: the queue stays bounded and drops the oldest', async () => {
    const hook = await startHook([0]);
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const escalator = createEscalator({ webhook: { url: hook.url, maxQueue: 10, timeoutMs: 60_000 } });
    escalator.attach(detector);
    try {
      let alerts = 0;
      for (let i = 0; i < 1000; i++) alerts += detector.onRecord(traffic.request(`10.1.${i >> 8}.${i & 255}`, 'GET', '/.env', 404)).length;
      expect(alerts).toBe(1000);
      const stats = escalator.stats();
      expect(stats.escalated).toBe(1000);
      expect(stats.webhook?.queued).toBe(10);
      expect(stats.webhook?.dropped).toBe(990);
    } finally {
      await escalator.close();
      await hook.close();
    }
    expect(escalator.stats().webhook?.queued).toBe(0);
  });

  it('forwards only the configured changes and severities', () => {
    const escalator = createEscalator({ changes: ['alert', 'alert-close'], severityAtMost: 3 });
    escalator.escalate({ kind: 'alert', alert: sampleAlert() });
    escalator.escalate({ kind: 'alert-update', alert: sampleAlert() });
    escalator.escalate({ kind: 'alert-close', alert: sampleAlert() });
    escalator.escalate({ kind: 'alert', alert: sampleAlert({ severity: 4 }) });
    expect(escalator.stats()).toEqual({ escalated: 2, skipped: 2 });
  });

  it('refuses a bad webhook URL when it is built', () => {
    expect(() => createEscalator({ webhook: { url: 'ftp://example.com/x' } })).toThrow('the scheme must be http or https');
    expect(() => createEscalator({ webhook: { url: 'not a url' } })).toThrow('is not a URL');
  });
});
