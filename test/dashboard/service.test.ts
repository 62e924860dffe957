import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import request from 'supertest';
import { loadServiceConfig, serviceOptionsFrom, startCollectorService, type AlertSink } from '../../src/dashboard';
import type { AlertChange } from '../../src/detect';
import { formatRfc5424 } from '../../src/ship/rfc5424';
import { TOKEN, bearer, eagerRules, loginFail, newSource, sendEvents, startTestService, tempDir, waitFor } from './helpers';

const dir = tempDir();
afterAll(() => dir.remove());
let counter = 0;
const freshDb = (): string => dir.file(`service-${++counter}.db`);

describe('startCollectorService', () => {
  it('binds the API to 127.0.0.1, and close() stops everything (idempotent, ports refused after)', async () => {
    const service = await startTestService(freshDb());
    expect(service.addresses.http.host).toBe('127.0.0.1');
    expect(service.url).toBe(`http://127.0.0.1:${service.addresses.http.port}/`);
    expect(service.tokenGenerated).toBe(false);
    await Promise.all([service.close(), service.close()]);
    for (const port of [service.addresses.http.port, service.addresses.tcp?.port ?? 0]) {
      await expect(
        new Promise((resolve, reject) => {
          const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket.end()));
          socket.once('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('generates a token when none is given, and refuses a weak one', async () => {
    const service = await startTestService(freshDb(), { token: undefined });
    expect(service.tokenGenerated).toBe(true);
    expect(service.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const base = service.url.replace(/\/$/, '');
    expect((await request(base).get('/api/health').set('Authorization', `Bearer ${service.token}`)).status).toBe(200);
    expect((await request(base).get('/api/health').set(...bearer())).status).toBe(401);
    await service.close();
    await expect(startTestService(freshDb(), { token: 'letmein' })).rejects.toThrow(/at least 16 characters/);
  });

  it('hands every alert change to the sinks; a failing sink is reported and the others still get theirs', async () => {
    const changes: AlertChange[] = [];
    const errors: Error[] = [];
    let closed = 0;
    const sinks: AlertSink[] = [
      {
        handle() {
          throw new Error('sink broke');
        },
      },
      { handle: () => Promise.reject(new Error('webhook down')) },
      {
        handle: (change) => void changes.push(change),
        close: async () => void closed++,
      },
    ];
    const service = await startTestService(freshDb(), { sinks, onError: (error) => void errors.push(error) });
    const shop = newSource();
    await sendEvents(service.addresses.tcp?.port ?? 0, Array.from({ length: 5 }, () => loginFail(shop)));
    await waitFor(() => changes.length === 1 && errors.length === 2, 'the change at the sinks');
    expect(changes[0]).toMatchObject({ kind: 'alert', alert: { ruleId: 'brute_force_account', count: 5 } });
    expect(errors.map((error) => error.message).sort()).toEqual(['sink broke', 'webhook down']);
    // The alert was stored all the same.
    expect(service.alerts.list()).toHaveLength(1);
    await service.close();
    expect(closed).toBe(1);
  });

  it('runs the rules as records arrive but hands an alert on only once the events behind it are committed', async () => {
    const changes: Array<{ kind: string; committed: number; eventsStored: boolean }> = [];
    const started: { service?: Awaited<ReturnType<typeof startTestService>> } = {};
    const sinks: AlertSink[] = [
      {
        handle: (change) => {
          // At the sink: every event the alert names is already readable from the store.
          const store = started.service?.collector.store;
          const ids = change.alert.records.map((ref) => ref.recordId);
          changes.push({
            kind: change.kind,
            committed: store?.health().lastId ?? 0,
            eventsStored: ids.length > 0 && ids.every((id) => store?.event(id) !== undefined),
          });
        },
      },
    ];
    // A long batch delay: the fifth failure's alert is raised at intake, ~400 ms before its commit.
    const service = await startTestService(freshDb(), { sinks, store: { batchDelayMs: 400, synchronous: 'NORMAL' } });
    started.service = service;
    const shop = newSource();
    const sent = Date.now();
    await sendEvents(service.addresses.tcp?.port ?? 0, Array.from({ length: 5 }, () => loginFail(shop)));
    await waitFor(() => changes.length === 1, 'the alert at the sink');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
    expect(changes[0]).toEqual({ kind: 'alert', committed: 5, eventsStored: true });
    await service.close();
  });

  it('escalates: an alert goes upstream as syslog severity 1 and to the webhook, and shows in the stats', async () => {
    const lines: string[] = [];
    const upstream = net.createServer((socket) => socket.on('data', (chunk: Buffer) => lines.push(chunk.toString('latin1'))));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const posts: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        posts.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const service = await startTestService(freshDb(), {
      escalation: {
        syslog: { url: `tcp://127.0.0.1:${(upstream.address() as net.AddressInfo).port}` },
        webhook: { url: `http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/a09`, headers: { authorization: 'Bearer hook-secret' } },
      },
    });
    expect(service.escalator).toBeDefined();
    const shop = newSource();
    await sendEvents(service.addresses.tcp?.port ?? 0, Array.from({ length: 5 }, () => loginFail(shop)));
    await waitFor(() => posts.length === 1 && lines.join('').includes('brute_force_account'), 'the alert upstream and at the webhook');
    // Facility 13 (log audit) * 8 + severity 1 (alert), octet-counted.
    expect(lines.join('')).toMatch(/^\d+ <105>1 \S+ \S+ a09-detect \d+ authn_login_fail_max \[a09alert@32473 change="alert" id="[0-9a-f-]{36}" rule="brute_force_account"/);
    expect(posts[0].headers.authorization).toBe('Bearer hook-secret');
    expect(JSON.parse(posts[0].body)).toMatchObject({ alert: { ruleId: 'brute_force_account', count: 5 } });
    const stats = await request(service.url.replace(/\/$/, '')).get('/api/stats').set(...bearer());
    expect(stats.body.escalation).toMatchObject({ escalated: 1, webhook: { delivered: 1 }, syslog: { sent: 1 } });
    await service.close();
    await new Promise((resolve) => upstream.close(resolve));
    await new Promise((resolve) => hook.close(resolve));
  });

  it('refuses a bad escalation URL before listening', async () => {
    await expect(startTestService(freshDb(), { escalation: { webhook: { url: 'ftp://example.org/hook' } } })).rejects.toThrow(/^escalation: webhook URL .* the scheme must be http or https/);
    await expect(startTestService(freshDb(), { escalation: { syslog: { url: 'http://example.org' } } })).rejects.toThrow(/^escalation: /);
  });

  it('keeps alerts across a restart and closes the ones the previous run left open', async () => {
    const db = freshDb();
    const first = await startTestService(db);
    const shop = newSource();
    await sendEvents(first.addresses.tcp?.port ?? 0, Array.from({ length: 5 }, () => loginFail(shop)));
    await waitFor(() => first.alerts.list().length === 1, 'the alert');
    await first.close();
    const second = await startTestService(db);
    expect(second.staleAlertsClosed).toBe(1);
    const response = await request(second.url.replace(/\/$/, '')).get('/api/alerts').set(...bearer());
    expect(response.body.alerts).toEqual([expect.objectContaining({ ruleId: 'brute_force_account', state: 'closed', closedBy: 'restart', count: 5 })]);
    await second.close();
  });

  it('ticks the detector: a source silent past its heartbeat shows as silent, and recovers when it speaks', async () => {
    const rules = eagerRules();
    const silence = rules.rules.find((rule) => rule.kind === 'silence');
    if (silence === undefined) throw new Error('no silence rule in the defaults');
    silence.graceMs = 0;
    const service = await startTestService(freshDb(), { rules, tickMs: 50 });
    const base = service.url.replace(/\/$/, '');
    const shop = newSource();
    const tcp = service.addresses.tcp?.port ?? 0;
    await sendEvents(tcp, [shop.create({ type: 'sys_heartbeat', outcome: 'info', detail: { intervalMs: 200 } })]);
    await waitFor(() => service.alerts.list({ ruleId: silence.id, state: 'open' }).length === 1, 'the silence alert');
    const silent = (await request(base).get('/api/sources').set(...bearer())).body.sources[0];
    expect(silent).toMatchObject({ host: 'shop-1', silent: true, heartbeatIntervalMs: 200, lastHeartbeatAt: expect.any(String) });
    await sendEvents(tcp, [shop.create({ type: 'sys_heartbeat', outcome: 'info', detail: { intervalMs: 60_000 } })]);
    await waitFor(() => service.alerts.list({ ruleId: silence.id, state: 'closed' }).length === 1, 'the silence alert to close');
    expect((await request(base).get('/api/sources').set(...bearer())).body.sources[0]).toMatchObject({ silent: false, heartbeatIntervalMs: 60_000 });
    await service.close();
  });

  it('loads rules from a file, and refuses a bad one before listening', async () => {
    const rulesFile = dir.file('rules.yaml');
    writeFileSync(rulesFile, 'extends: default\nrules:\n  - id: brute_force_account\n    threshold: 2\n');
    const service = await startTestService(freshDb(), { rules: rulesFile });
    const shop = newSource();
    await sendEvents(service.addresses.tcp?.port ?? 0, [loginFail(shop), loginFail(shop)]);
    await waitFor(() => service.alerts.list().length === 1, 'the alert at threshold 2');
    await service.close();
    writeFileSync(rulesFile, 'rules:\n  - id: x\n    kind: nonsense\n');
    await expect(startTestService(freshDb(), { rules: rulesFile })).rejects.toThrow(/invalid detection rules/);
  });
});

describe('configuration files', () => {
  it('resolve paths against the file, read the TLS files, and start a TLS listener that takes events', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir.dir, stdio: 'pipe' });
    const file = dir.file('service.json');
    writeFileSync(file, JSON.stringify({ db: 'tls.db', udp: false, tcp: false, tls: { listen: '127.0.0.1:0', cert: 'cert.pem', key: 'key.pem' }, http: 0, tickMs: 200, store: { batchDelayMs: 5 } }));
    const config = loadServiceConfig(file);
    expect(config.db).toBe(dir.file('tls.db'));
    const options = serviceOptionsFrom({ ...config, db: config.db as string });
    const service = await startCollectorService({ ...options, token: TOKEN });
    expect(service.addresses.udp).toBeUndefined();
    expect(service.addresses.tcp).toBeUndefined();
    const port = service.addresses.tls?.port ?? 0;
    const event = loginFail(newSource());
    const socket = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(dir.file('cert.pem')) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const message = Buffer.from(formatRfc5424(event));
    socket.write(Buffer.concat([Buffer.from(`${message.length} `), message]));
    await waitFor(() => service.collector.store.events().length === 1, 'the event over TLS');
    socket.destroy();
    expect(service.collector.store.events()[0]).toMatchObject({ transport: 'tls', event: { seq: 1 } });
    await service.close();
  });

  it('name the file and the field that is wrong', () => {
    const file = dir.file('wrong.yaml');
    const cases: Array<[string, RegExp]> = [
      ['- a list', /must be a mapping/],
      ['udp: [1]', /udp must be host:port, a port or false/],
      ['tls: { cert: a.pem }', /tls\.key must be a file path/],
      ['limits: { maxConections: 5 }', /limits: unknown setting 'maxConections'/],
      ['store: { synchronous: OFF }', /store\.synchronous must be FULL or NORMAL/],
      ['tickMs: -1', /tickMs must be a positive integer/],
      ['escalation: { webhook: { uri: x } }', /escalation\.webhook: unknown setting 'uri'/],
      ['escalation: { changes: [opened] }', /escalation\.changes must be a list of alert, alert-update, alert-close/],
      ['escalation: { syslog: { url: tcp://x:514, facility: 40 } }', /escalation\.syslog\.facility must be an integer from 0 to 23/],
      ['db: [', /wrong\.yaml: /],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      expect(() => loadServiceConfig(file)).toThrow(message);
    }
    writeFileSync(file, 'http: here');
    expect(() => serviceOptionsFrom({ ...loadServiceConfig(file), db: 'x.db' })).toThrow(/http wants host:port or a port, not 'here'/);
    expect(() => loadServiceConfig(dir.file('missing.yaml'))).toThrow(/cannot read .*missing\.yaml \(ENOENT\)/);
  });
});
