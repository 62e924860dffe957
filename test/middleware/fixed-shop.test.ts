/**
 * End to end against the practice shop (src/shop) in fixed mode: the a09 stack at Juice Shop's mount
 * points, recorded through a real EventSource + sanitizeEvent, serialised with the RFC 5424 formatter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createShop, generateShopKeys, type ListeningShop, type Shop, type ShopKeyPair, type ShopMode } from '../../src/shop';
import { formatRfc5424 } from '../../src/ship/rfc5424';
import { forgeHs256, forgeNone, md5, RecordingEmitter, waitFor } from './helpers';

let keys: ShopKeyPair;
beforeAll(() => {
  keys = generateShopKeys();
});

interface Running {
  shop: Shop;
  listening: ListeningShop;
  http: ReturnType<typeof request>;
  emitter: RecordingEmitter;
  logDir: string;
  stop(): Promise<void>;
}

async function start(mode: ShopMode = 'fixed'): Promise<Running> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-mw-'));
  const emitter = new RecordingEmitter();
  const shop = await createShop({ mode, logDir, keys, fixed: { emitter }, naive: { console: false } });
  const listening = await shop.listen(0, '127.0.0.1');
  return {
    shop,
    listening,
    http: request(listening.url),
    emitter,
    logDir,
    stop: async () => {
      await shop.close();
      fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}

const json = (value: unknown): string => JSON.stringify(value);

describe('practice shop, fixed mode', () => {
  let running: Running;
  beforeEach(async () => {
    running = await start();
  });
  afterEach(async () => {
    await running.stop();
  });

  const login = (email: string, password: string) =>
    running.http.post('/rest/user/login').set('Content-Type', 'application/json').send(json({ email, password }));

  it('keeps Juice Shop working and sets helmet headers (no X-Powered-By, nosniff, frameguard, no CSP)', async () => {
    const response = await login('admin@juice-sh.op', 'admin123').expect(200);
    expect(response.body.authentication).toMatchObject({ bid: 1, umail: 'admin@juice-sh.op' });
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['content-security-policy']).toBeUndefined();
    await running.emitter.requests(1);
    expect(running.emitter.types()).toEqual(['authn_login_success', 'http_request']);
    expect(running.emitter.refused).toEqual([]);
  });

  it('records the login events: fail, SQL-injection bypass (CRITICAL, severity 1), TOTP, success after fail', async () => {
    await login('jim@juice-sh.op', 'guess').expect(401);
    await login('jim@juice-sh.op', 'ncc-1701').expect(200);
    await login("' OR 1=1--", 'x').expect(200);
    await login('wurstbrot@juice-sh.op', 'EinBelegtesBrotMitSchinkenSCHINKEN!').expect(401);
    await running.emitter.requests(4);
    const { emitter } = running;
    expect(emitter.types().filter((t) => t !== 'http_request')).toEqual([
      'authn_login_fail',
      'authn_login_successafterfail',
      'malicious_sqli',
      'authn_login_success',
      'authn_login_fail',
    ]);
    expect(emitter.only('authn_login_successafterfail')).toMatchObject({ who: { userId: '2' }, detail: { failures: 1 } });
    expect(emitter.only('malicious_sqli')).toMatchObject({ level: 'CRITICAL', severity: 1, outcome: 'allowed', who: { userId: '1' } });
    expect(emitter.ofType('authn_login_fail').map((e) => e.reason)).toEqual(['bad_credentials', 'second_factor_required']);
  });

  it('records basket events: foreign read, the duplicate-key manipulation, checkout, coupon', async () => {
    const admin = (await login('admin@juice-sh.op', 'admin123').expect(200)).body.authentication.token as string;
    const auth = { Authorization: `Bearer ${admin}` };
    const read = await running.http.get('/rest/basket/2').set(auth).expect(200);
    expect(read.body.data.UserId).toBe(2);
    await running.http.post('/api/BasketItems').set(auth).set('Content-Type', 'application/json').send(json({ ProductId: 6, BasketId: '2', quantity: 1 })).expect(401);
    const smuggled = await running.http
      .post('/api/BasketItems')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}')
      .expect(200);
    expect(String(smuggled.body.data.BasketId)).toBe('2');
    await running.http.post('/rest/basket/1/checkout').set(auth).expect(200);
    await running.http.put('/rest/basket/1/coupon/NOT-A-COUPON').set(auth).expect(404);
    await running.emitter.requests(6);
    const { emitter } = running;
    const authz = emitter.ofType('authz_fail');
    expect(authz.map((e) => [e.reason, e.outcome])).toEqual([
      ['foreign_basket_read', 'allowed'],
      ['foreign_basket_item_add', 'blocked'],
      ['foreign_basket_item_add', 'allowed'],
    ]);
    expect(authz[0]?.detail).toMatchObject({ basketId: '2', ownBasketId: '1', basketOwnerUserId: '2' });
    expect(emitter.only('malicious_direct_reference')).toMatchObject({ outcome: 'allowed', detail: { firstBasketId: '1', lastBasketId: '2' } });
    expect(emitter.only('order_placed')).toMatchObject({ who: { userId: '1' }, detail: { basketId: '1' } });
    expect(String(emitter.only('order_placed').detail.orderId)).toMatch(/^[0-9a-f]{4}-[0-9a-f]{16}$/);
    expect(emitter.only('input_validation_fail').reason).toBe('invalid_coupon');
    expect(emitter.refused).toEqual([]);
  });

  it('records token attacks the shop falls for (alg none, HS256 with the public key)', async () => {
    const payload = { data: { id: 2, email: 'jim@juice-sh.op', password: md5('ncc-1701'), role: 'customer' }, bid: 2 };
    const none = forgeNone(payload);
    const confused = forgeHs256(payload, running.shop.publicKeyPem);
    const a = await running.http.get('/rest/basket/1').set('Authorization', `Bearer ${confused}`);
    const b = await running.http.get('/rest/basket/1').set('Authorization', `Bearer ${none}`);
    await running.emitter.requests(2);
    const events = running.emitter.ofType('authn_token_invalid');
    expect(events.map((e) => e.reason)).toEqual(['alg_confusion', 'alg_none']);
    expect(events[0]?.detail.signedWithPublicKey).toBe(true);
    expect(events.map((e) => e.outcome)).toEqual([a.status === 200 ? 'allowed' : 'blocked', b.status === 200 ? 'allowed' : 'blocked']);
    // A forged identity reading another basket is an authorisation failure too, marked unverified.
    if (a.status === 200) expect(running.emitter.ofType('authz_fail')[0]?.detail).toMatchObject({ actorVerified: false, ownBasketId: '2' });
  });

  it('refuses /support/logs (404, sensitive_read) and answers errors generically by Accept', async () => {
    await running.http.get('/support/logs').set('Accept', 'application/json').expect(404);
    const html = await running.http.post('/rest/user/login').set('Content-Type', 'application/json').send(json({ email: "'", password: 'x' })).expect(500);
    const jsonError = await running.http.get("/rest/products/search?q=')").set('Accept', 'application/json').expect(500);
    const text = await running.http.get('/rest/user/change-password?new=a&repeat=a').set('Accept', 'text/plain').expect(500);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toMatch(/<title>OWASP Juice Shop[^<]*<\/title>/);
    expect(Object.keys(jsonError.body.error).sort()).toEqual(['incidentId', 'message', 'status']);
    expect(text.text).toMatch(/^500 Internal Server Error \(incident [0-9a-f-]{36}\)\n$/);
    for (const body of [html.text, jsonError.text, text.text]) expect(body).not.toMatch(/SQLITE|SELECT|at |Blocked|\/tmp\/|127\.0\.0\.1/);
    await running.emitter.requests(4);
    const { emitter } = running;
    expect(emitter.only('sensitive_read')).toMatchObject({ outcome: 'blocked', where: { status: 404 } });
    const incidents = emitter.ofType('sys_error');
    expect(incidents).toHaveLength(3);
    expect(incidents.map((e) => e.detail.incidentId)).toContain(jsonError.body.error.incidentId);
    expect(emitter.ofType('authn_password_change_fail')[0]?.reason).toBe('not_authenticated');
  });
});

describe('practice shop, fixed mode with the real audit logger (createAuditLogger -> JSON-lines file)', () => {
  it('ships complete, sanitized events through the logger and closes it with the shop', async () => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-mw-'));
    const file = path.join(logDir, '..', `${path.basename(logDir)}-events.jsonl`);
    const shop = await createShop({ mode: 'fixed', logDir, keys, fixed: { logger: { file, heartbeatMs: 0, hmacKey: 'k' } } });
    const listening = await shop.listen(0, '127.0.0.1');
    try {
      const http = request(listening.url);
      await http.post('/rest/user/login').set('Content-Type', 'application/json').send(json({ email: "' OR 1=1--", password: 'admin123' })).expect(200);
      await http.get('/rest/user/change-password?current=admin123&new=Zz9-secret&repeat=Zz9-secret').expect(500);
    } finally {
      await shop.close();
    }
    const text = fs.readFileSync(file, 'utf8');
    fs.rmSync(logDir, { recursive: true, force: true });
    fs.rmSync(file, { force: true });
    const events = text.trim().split('\n').map((line) => JSON.parse(line) as { type: string; seq: number; where: { url?: string } });
    // Bracketed by the logger's lifecycle events: a collector tells a clean stop from a silenced sender.
    expect(events.map((e) => e.type)).toEqual([
      'sys_startup',
      'malicious_sqli',
      'authn_login_success',
      'http_request',
      'sys_error',
      'authn_password_change_fail',
      'http_request',
      'sys_shutdown',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events[5]?.where.url).toBe('/rest/user/change-password?current=[REDACTED]&new=[REDACTED]&repeat=[REDACTED]');
    for (const secret of ['admin123', 'Zz9-secret', md5('admin123'), 'admin@juice-sh.op']) expect(text).not.toContain(secret);
  });

  it('defaults to a JSON-lines file beside the log directory, not inside what /support/logs serves', async () => {
    const { defaultLoggerOptions } = await import('../../src/shop/fixed');
    expect(defaultLoggerOptions('/srv/shop/logs')).toEqual({ app: 'juice-shop', file: '/srv/shop/a09-audit/events.jsonl' });
  });
});

describe('canary secrets', () => {
  const newPassword = 'Canary-N3w-Pass!';
  const card = '4111111111111111';

  /** Drives every route that handles a secret; returns the issued tokens and every answer body >= 400. */
  async function scenario(running: Running): Promise<{ tokens: string[]; errorBodies: string[] }> {
    const errorBodies: string[] = [];
    const note = (response: request.Response): request.Response => {
      if (response.status >= 400) errorBodies.push(response.text);
      return response;
    };
    const http = running.http;
    const post = (body: unknown) => http.post('/rest/user/login').set('Content-Type', 'application/json').send(json(body));
    const admin = note(await post({ email: 'admin@juice-sh.op', password: 'admin123' })).body.authentication.token as string;
    note(await post({ email: 'jim@juice-sh.op', password: 'wrong-' + newPassword }));
    const jim = note(await post({ email: 'jim@juice-sh.op', password: 'ncc-1701' })).body.authentication.token as string;
    note(await post({ email: `${card.replace(/(\d{4})/g, '$1 ').trim()}'`, password: 'admin123' }));
    note(await post({ email: "'", password: 'ncc-1701' }));
    note(await http.get(`/rest/user/change-password?current=ncc-1701&new=${encodeURIComponent(newPassword)}&repeat=${encodeURIComponent(newPassword)}`).set('Authorization', `Bearer ${jim}`));
    note(await http.get(`/rest/user/change-password?current=admin123&new=${encodeURIComponent(newPassword)}&repeat=${encodeURIComponent(newPassword)}`));
    note(await http.get(`/rest/products/search?q=${card}`));
    note(await http.get(`/rest/products/search?q=')) OR 1=1 -- ${card}`));
    note(await http.get('/rest/basket/2').set('Authorization', `Bearer ${admin}`));
    note(await http.get('/rest/user/whoami').set('Cookie', `token=${admin}`));
    note(await http.get(`/rest/basket/1?token=${admin}`));
    note(await http.get('/rest/basket/1').set('Authorization', `Bearer ${forgeNone({ data: { id: 1, password: md5('admin123') } })}`));
    note(await http.get('/support/logs/access.log').set('Authorization', `Bearer ${admin}`));
    await waitFor(() => running.emitter.ofType('http_request').length >= 14 || running.shop.mode !== 'fixed', 'all requests recorded');
    return { tokens: [admin, jim], errorBodies };
  }

  function canaries(tokens: string[]): string[] {
    return [
      'admin123',
      'ncc-1701',
      newPassword,
      encodeURIComponent(newPassword),
      md5('admin123'),
      md5('ncc-1701'),
      md5(newPassword),
      card,
      '4111 1111 1111 1111',
      'admin@juice-sh.op',
      'jim@juice-sh.op',
      ...tokens,
      ...tokens.map((token) => token.split('.')[1]!),
      ...tokens.map((token) => token.split('.')[2]!),
    ];
  }

  function filesUnder(dir: string): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) out.push(...filesUnder(full));
      else out.push(fs.readFileSync(full, 'utf8'));
    }
    return out;
  }

  it('finds none in any sink in fixed mode: events (JSON and RFC 5424), error answers, log files, stdout/stderr', async () => {
    const printed: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      }),
    );
    const running = await start('fixed');
    let result: { tokens: string[]; errorBodies: string[] };
    try {
      result = await scenario(running);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const { emitter } = running;
    const sinks = {
      json: emitter.events.map((event) => JSON.stringify(event)).join('\n'),
      syslog: emitter.events.map((event) => formatRfc5424(event)).join('\n'),
      errorAnswers: result.errorBodies.join('\n'),
      logFiles: filesUnder(running.logDir).join('\n'),
      printed: printed.join(''),
    };
    await running.stop();
    // The scenario did reach the audits (so "nothing leaked" is not "nothing recorded").
    expect(new Set(emitter.types())).toEqual(
      new Set(['authn_login_success', 'authn_login_fail', 'authn_login_successafterfail', 'malicious_sqli', 'sys_error', 'authn_password_change', 'authn_password_change_fail', 'authz_fail', 'authn_token_invalid', 'sensitive_read', 'http_request']),
    );
    expect(result.errorBodies.length).toBeGreaterThan(4);
    const leaks: string[] = [];
    for (const [sink, text] of Object.entries(sinks)) {
      for (const secret of canaries(result.tokens)) if (text.includes(secret)) leaks.push(`${sink}: ${secret.slice(0, 24)}`);
    }
    expect(leaks).toEqual([]);
    expect(emitter.refused).toEqual([]);
  });

  it('the same detector finds the expected leaks in naive mode (the foil)', async () => {
    const running = await start('naive');
    const result = await scenario(running);
    const appLog = path.join(running.logDir, 'app.log');
    await waitFor(() => fs.existsSync(appLog) && fs.readFileSync(appLog, 'utf8').includes('/support/logs'), 'naive app.log');
    const logs = filesUnder(running.logDir).join('\n');
    await running.stop();
    const found = canaries(result.tokens).filter((secret) => logs.includes(secret));
    // express-winston logs request headers (Authorization) and query strings; the SQL error stacks carry the
    // md5 hashes; the route messages log raw emails. The detector is the one that finds nothing in fixed mode.
    expect(found).toEqual(expect.arrayContaining([result.tokens[0], newPassword, md5('admin123'), card, 'jim@juice-sh.op']));
  });
});
