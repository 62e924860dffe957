import request from 'supertest';
import type { CollectorService } from '../../src/dashboard';
import type { AuditEvent } from '../../src/events';
import { TOKEN, bearer, loginFail, newSource, sendEvents, serviceErrors, startTestService, tempDir, waitFor } from './helpers';

const dir = tempDir();
let service: CollectorService;
let base: string;
const shop = newSource('shop-1');
const other = newSource('shop-2');
let shopEvents: AuditEvent[] = [];
let otherEvents: AuditEvent[] = [];

let requestNo = 0;
const web = (ip: string, url: string, status: number, method = 'GET') => ({
  who: { ip },
  where: { method, url, route: url, status, requestId: `req-${++requestNo}` },
});

beforeAll(async () => {
  service = await startTestService(dir.file('collector.db'));
  base = service.url.replace(/\/$/, '');
  const tcp = service.addresses.tcp?.port ?? 0;
  // shop-1: 5 failed logins for one account (trips brute_force_account), then a success and a 404.
  shopEvents = [
    ...Array.from({ length: 5 }, () => loginFail(shop, 'jim@juice-sh.op')),
    shop.create({ type: 'authn_login_success', outcome: 'success', email: 'bender@juice-sh.op', ...web('198.51.100.4', '/rest/user/login', 200, 'POST'), who: { ip: '198.51.100.4', userId: '3' } }),
    shop.create({ type: 'http_request', outcome: 'info', ...web('198.51.100.4', '/ftp/secret.md', 404) }),
  ];
  otherEvents = Array.from({ length: 3 }, () => other.create({ type: 'http_request', outcome: 'info', ...web('192.0.2.1', '/api/Products', 200) }));
  await sendEvents(tcp, shopEvents);
  await sendEvents(tcp, otherEvents);
  await waitFor(() => service.alerts.list({ ruleId: 'brute_force_account' }).length === 1, 'the brute-force alert');
});

afterAll(async () => {
  await service.close();
  dir.remove();
  expect(serviceErrors).toEqual([]);
});

const get = (path: string) => request(base).get(path).set(...bearer());

describe('authentication', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token under another scheme', `Basic ${TOKEN}`],
    ['the token without a scheme', TOKEN],
  ])('refuses %s with 401 and a Bearer challenge', async (_what, header) => {
    const call = request(base).get('/api/events');
    if (header !== undefined) call.set('Authorization', header);
    const response = await call;
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect(response.body).toEqual({ error: 'unauthorized' });
  });

  it('never takes the token from the URL', async () => {
    for (const name of ['access_token', 'token', 'ticket']) {
      const response = await request(base).get(`/api/events?${name}=${TOKEN}`);
      expect(response.status).toBe(401);
    }
  });

  it('answers every /api route with 401 before anything else, even unknown ones', async () => {
    for (const path of ['/api/alerts', '/api/sources', '/api/stats', '/api/health', '/api/gaps', '/api/nothing-here', '/api/stream']) {
      expect((await request(base).get(path)).status).toBe(401);
    }
    expect((await request(base).post('/api/stream-ticket')).status).toBe(401);
  });

  it('lets the right token in, and counts the refusals', async () => {
    const before = (await get('/api/stats')).body.http.unauthorized as number;
    await request(base).get('/api/alerts').set('Authorization', 'Bearer wrong-token-wrong-token');
    const response = await get('/api/stats');
    expect(response.status).toBe(200);
    expect(response.body.http.unauthorized).toBe(before + 1);
  });
});

describe('health', () => {
  it('says only ok, without a token', async () => {
    const response = await request(base).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
  });

  it('gives the details behind the token', async () => {
    const response = await get('/api/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      ok: true,
      addresses: { tcp: { host: '127.0.0.1', port: service.addresses.tcp?.port } },
      store: { lastId: shopEvents.length + otherEvents.length, sources: 2 },
      detector: { records: shopEvents.length + otherEvents.length },
      alerts: { open: expect.any(Number) },
    });
  });
});

describe('headers', () => {
  it.each(['/', '/app.js', '/app.css', '/health', '/api/events', '/nope'])('%s carries the security headers', async (path) => {
    const response = await request(base).get(path);
    const csp = response.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the page without data and without the token', async () => {
    const page = await request(base).get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<script src="/app.js" defer></script>');
    for (const path of ['/', '/app.js', '/app.css']) {
      const text = (await request(base).get(path)).text;
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('jim@juice-sh.op');
    }
  });
});

describe('GET /api/events', () => {
  const ids = async (query: string): Promise<number[]> => {
    const response = await get(`/api/events${query}`);
    expect(response.status).toBe(200);
    return (response.body.events as Array<{ id: number }>).map((record) => record.id);
  };

  it('returns the newest first, events parsed, MSG left out for our events', async () => {
    const response = await get('/api/events');
    expect(response.body.events).toHaveLength(10);
    expect(response.body.events[0]).toMatchObject({ id: 10, format: 'rfc5424', transport: 'tcp', host: 'shop-2', event: { type: 'http_request', seq: 3 } });
    expect(response.body.events[0].message).toBeUndefined();
    expect(response.body.next).toBeNull();
  });

  it('filters by type (one or a list)', async () => {
    expect(await ids('?type=authn_login_fail')).toEqual([5, 4, 3, 2, 1]);
    expect(await ids('?type=authn_login_success,http_request&source=shop-1')).toEqual([7, 6]);
  });

  it('filters by source: host, host/instance, or an alert key', async () => {
    expect(await ids('?source=shop-2')).toEqual([10, 9, 8]);
    expect(await ids(`?source=shop-1/${shop.instance}`)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(await ids(`?source=${encodeURIComponent(`source:shop-2/${other.instance}`)}`)).toEqual([10, 9, 8]);
    expect(await ids(`?source=shop-2/${shop.instance}`)).toEqual([]);
  });

  it('filters by actor: ip, pseudonymous email id, user id', async () => {
    const emailId = shopEvents[0].who.emailId as string;
    expect(await ids(`?actor=email:${emailId}`)).toEqual([5, 4, 3, 2, 1]);
    expect(await ids('?actor=ip:198.51.100.4')).toEqual([7, 6]);
    expect(await ids('?actor=user:3')).toEqual([6]);
    expect(await ids('?ip=192.0.2.1')).toEqual([10, 9, 8]);
  });

  it('filters by text and by time', async () => {
    expect(await ids('?text=secret.md')).toEqual([7]);
    expect(await ids('?text=' + encodeURIComponent('%'))).toEqual([]);
    const all = (await get('/api/events?limit=1000')).body.events as Array<{ id: number; receivedAt: string }>;
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(await ids(`?since=${future}`)).toEqual([]);
    expect(await ids(`?until=${encodeURIComponent(all[all.length - 1].receivedAt)}`)).toEqual([]);
    expect(await ids(`?since=${encodeURIComponent(all[all.length - 1].receivedAt)}&until=${future}`)).toHaveLength(10);
  });

  it('pages with limit and the next cursor, older pages first, without overlap', async () => {
    const seen: number[] = [];
    let query = '?limit=3';
    for (;;) {
      const response = await get(`/api/events${query}`);
      seen.push(...(response.body.events as Array<{ id: number }>).map((record) => record.id));
      if (response.body.next === null) break;
      query = `?limit=3&before=${response.body.next.before}`;
    }
    expect(seen).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(await ids('?after=7&limit=2')).toEqual([8, 9]);
    expect((await get('/api/events?after=7&limit=2')).body.next).toEqual({ after: 9 });
  });

  it('answers a bad filter with 400 and says which', async () => {
    const cases: Array<[string, RegExp]> = [
      ['?type=authn_nonsense', /unknown event type/],
      ['?since=yesterday', /since must be an ISO 8601 time/],
      ['?limit=0', /limit must be from 1 to 1000/],
      ['?limit=5000', /limit must be from 1 to 1000/],
      ['?before=abc', /before must be an integer/],
      ['?before=5&after=2', /not both/],
      ['?type=http_request&type=sys_error', /more than once/],
      ['?actor=jim', /actor wants/],
      ['?format=xml', /format must be one of/],
    ];
    for (const [query, message] of cases) {
      const response = await get(`/api/events${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(message);
    }
  });

  it('returns one record by id, 404 for none', async () => {
    expect((await get('/api/events/6')).body.event).toMatchObject({ id: 6, event: { type: 'authn_login_success' } });
    expect((await get('/api/events/999')).status).toBe(404);
    expect((await get('/api/events/1;DROP')).status).toBe(404);
  });
});

describe('GET /api/alerts', () => {
  it('lists the brute-force alert with the records behind it', async () => {
    const response = await get('/api/alerts?rule=brute_force_account');
    expect(response.status).toBe(200);
    const [alert] = response.body.alerts;
    expect(alert).toMatchObject({
      ruleId: 'brute_force_account',
      type: 'authn_login_fail_max',
      state: 'open',
      count: 5,
      key: { kind: 'account', value: `email:${shopEvents[0].who.emailId}` },
      recordCount: 5,
    });
    expect(alert.records.map((ref: { recordId: number }) => ref.recordId)).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives one alert with its changes and the stored events behind it', async () => {
    const [listed] = (await get('/api/alerts?rule=brute_force_account')).body.alerts;
    const response = await get(`/api/alerts/${listed.id}`);
    expect(response.status).toBe(200);
    expect(response.body.alert.id).toBe(listed.id);
    expect(response.body.changes[0]).toMatchObject({ kind: 'alert', count: 5 });
    expect(response.body.events.map((record: { id: number; event: AuditEvent }) => [record.id, record.event.type])).toEqual([
      [1, 'authn_login_fail'],
      [2, 'authn_login_fail'],
      [3, 'authn_login_fail'],
      [4, 'authn_login_fail'],
      [5, 'authn_login_fail'],
    ]);
    expect((await get(`/api/alerts/${listed.id}?events=2`)).body.events).toHaveLength(2);
  });

  it('filters by state, key and text, 404s an unknown id, 400s a bad state', async () => {
    const key = `email:${shopEvents[0].who.emailId}`;
    expect((await get(`/api/alerts?key=${key}&state=open`)).body.alerts).toHaveLength(1);
    expect((await get(`/api/alerts?key=${key}&state=closed`)).body.alerts).toHaveLength(0);
    expect((await get('/api/alerts?text=no-such-words')).body.alerts).toHaveLength(0);
    expect((await get('/api/alerts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get('/api/alerts/not-a-uuid')).status).toBe(404);
    expect((await get('/api/alerts?state=maybe')).status).toBe(400);
  });
});

describe('GET /api/sources and /api/stats', () => {
  it('shows each source with last seen, seq, gaps, and each sender with what it had rejected', async () => {
    const tcp = service.addresses.tcp?.port ?? 0;
    // A duplicate (already stored) and a gap: seq 8 and 9 never sent, 10 arrives.
    const dup = shopEvents[6];
    shop.create({ type: 'http_request', outcome: 'info', ...web('198.51.100.4', '/', 200) });
    shop.create({ type: 'http_request', outcome: 'info', ...web('198.51.100.4', '/', 200) });
    const after = shop.create({ type: 'http_request', outcome: 'info', ...web('198.51.100.4', '/', 200) });
    await sendEvents(tcp, [dup, after], 7);
    await waitFor(() => service.alerts.list({ ruleId: 'sequence_gap' }).length === 1, 'the gap alert');
    const response = await get('/api/sources');
    expect(response.status).toBe(200);
    const source = response.body.sources.find((entry: { host: string }) => entry.host === 'shop-1');
    expect(source).toMatchObject({ instance: shop.instance, app: 'juice-shop', lastSeq: 10, contiguousSeq: 7, events: 8, duplicates: 1, gaps: 1, openGaps: 1, silent: false });
    expect(typeof source.lastSeen).toBe('string');
    const peer = response.body.peers.find((entry: { peer: string }) => entry.peer === '127.0.0.1');
    expect(peer.rejected).toMatchObject({ duplicate: 1 });
    expect(response.body.rejected.duplicate).toBe(1);
    const gaps = await get('/api/gaps?open=true');
    expect(gaps.body.gaps).toEqual([expect.objectContaining({ host: 'shop-1', from: 8, to: 9 })]);
  });

  it('gives the collector, detector, alert and HTTP counters', async () => {
    const response = await get('/api/stats');
    expect(response.body).toMatchObject({
      collector: { accepted: expect.any(Number), rejected: { duplicate: 1 } },
      detector: { rules: { brute_force_account: expect.any(Object) } },
      alerts: { total: expect.any(Number) },
      http: { requests: expect.any(Number), streamClients: 0 },
    });
  });
});

describe('JSON responses', () => {
  it('escape markup characters, so attacker text in an event can never be read as HTML', async () => {
    const third = newSource('shop-3');
    const payload = '/search?q=<script>alert(1)</script>&x=1';
    await sendEvents(service.addresses.tcp?.port ?? 0, [third.create({ type: 'http_request', outcome: 'info', ...web('192.0.2.77', payload, 200) })]);
    const response = await get('/api/events?source=shop-3');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.text).not.toMatch(/[<>&]/);
    expect(response.text).toContain('\\u003cscript\\u003e');
    expect(response.body.events[0].event.where.url).toBe(payload);
  });
});
