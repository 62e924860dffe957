import { neutralise } from '../../src/sanitize';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { a09, securityHeaders, type A09Options, type SecurityHeadersOptions } from '../../middleware';
import { makeKeys, payloadFor, RecordingEmitter, signRs256, userByEmail, waitFor, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

function setup(options: Partial<A09Options> = {}) {
  const emitter = new RecordingEmitter();
  const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem, ...options });
  return { emitter, app: miniShop(express, { keys, stack }) };
}

describe('log guard', () => {
  it.each([
    '/support/logs',
    '/support/logs/',
    '/support/logs/access.log.2026-11-27',
    '/SUPPORT/Logs',
    '//support//logs',
    '/support/%6cogs',
    '/support/x/../logs',
    '/support/logs?x=1',
  ])('refuses %s with 404 and records sensitive_read with the actor', async (path) => {
    const { emitter, app } = setup();
    const token = signRs256(payloadFor(userByEmail('jim@juice-sh.op')), keys);
    const response = await request(app).get(path).set('Authorization', `Bearer ${token}`).set('Accept', 'application/json');
    expect(response.status).toBe(404);
    expect(response.text).not.toContain('access.log');
    await emitter.requests(1);
    expect(emitter.only('sensitive_read')).toMatchObject({
      outcome: 'blocked',
      reason: 'log_file_access',
      level: 'WARN',
      who: { userId: '2', ip: '127.0.0.1' },
      where: { method: 'GET', status: 404 },
      detail: { refused: true },
    });
    expect(emitter.only('http_request').where.status).toBe(404);
    // Refused before any route: both events still say where (CWE-223).
    const route = emitter.only('sensitive_read').where.route;
    expect(route === '/support/logs' || route === '/support/logs/*').toBe(true);
    expect(emitter.only('http_request').where.route).toBe(route);
  });

  it('leaves other paths alone', async () => {
    const { emitter, app } = setup();
    await request(app).get('/support/logsx').expect(404);
    await request(app).get('/ok').expect(200);
    await emitter.requests(2);
    expect(emitter.ofType('sensitive_read')).toEqual([]);
  });

  it('guards configured paths (prefixes and patterns), e.g. /ftp/*.log', async () => {
    const { emitter, app } = setup({ logGuard: { paths: ['/support/logs', /^\/ftp\/[^/]*\.log$/] } });
    await request(app).get('/ftp/server.log').expect(404);
    await request(app).get('/ftp/legal.md').expect(404); // not guarded: the mini app has no /ftp, so Express 404s
    await emitter.requests(2);
    expect(emitter.ofType('sensitive_read').map((e) => e.where.url)).toEqual(['/ftp/server.log']);
    expect(emitter.ofType('sensitive_read').map((e) => e.where.route)).toEqual([neutralise(String(/^\/ftp\/[^/]*\.log$/))]);
  });

  it('with block: false, records what the app served (allowed) and answers as the app does', async () => {
    const { emitter, app } = setup({ logGuard: { block: false } });
    const response = await request(app).get('/support/logs').set('Accept', 'application/json').expect(200);
    expect(response.body).toEqual(['access.log.2026-11-27', 'audit.json']);
    await emitter.requests(1);
    expect(emitter.only('sensitive_read')).toMatchObject({ outcome: 'allowed', who: {}, detail: { refused: false } });
  });
});

describe('security headers (helmet)', () => {
  it('removes X-Powered-By and sets nosniff and frameguard, without a CSP by default', async () => {
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter });
    const app = express();
    for (const handler of stack.first) app.use(handler);
    if (stack.helmet) app.use(stack.helmet);
    app.get('/', (_req, res) => {
      res.send('<script>angular()</script>');
    });
    const response = await request(app).get('/').expect(200);
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['content-security-policy']).toBeUndefined();
    expect(response.text).toBe('<script>angular()</script>');
  });

  it('takes helmet options (a CSP when configured) and can be turned off', async () => {
    const withCsp = a09({ emitter: new RecordingEmitter(), helmet: { contentSecurityPolicy: { directives: { 'script-src': ["'self'"] } } } });
    const app = express();
    app.use(withCsp.helmet!);
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    expect((await request(app).get('/')).headers['content-security-policy']).toContain("script-src 'self'");
    expect(a09({ emitter: new RecordingEmitter(), helmet: false }).helmet).toBeUndefined();
  });

  it('sets exactly the headers helmet itself sets (worked out once), and keeps per-request CSP functions working', async () => {
    const headersOf = async (handler: express.RequestHandler): Promise<Record<string, unknown>> => {
      const app = express();
      app.use(handler);
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      const { headers } = await request(app).get('/');
      for (const volatile of ['date', 'etag', 'connection', 'keep-alive']) delete headers[volatile];
      return headers;
    };
    const configurations: SecurityHeadersOptions[] = [
      {},
      { contentSecurityPolicy: { directives: { 'script-src': ["'self'", 'cdn.example'] } }, frameguard: { action: 'deny' }, strictTransportSecurity: false },
    ];
    for (const options of configurations) {
      const ours = await headersOf(securityHeaders(options));
      expect(ours).toEqual(await headersOf(helmet({ contentSecurityPolicy: false, ...options })));
      expect(ours['x-powered-by']).toBeUndefined();
    }
    // A nonce is a function of the request: helmet runs per request then.
    let n = 0;
    const nonce = securityHeaders({ contentSecurityPolicy: { directives: { 'script-src': ["'self'", () => `'nonce-${++n}'`] } } });
    expect((await headersOf(nonce))['content-security-policy']).toContain("'nonce-1'");
    expect((await headersOf(nonce))['content-security-policy']).toContain("'nonce-2'");
  });
});

describe('turning pieces off', () => {
  it('records only what is on', async () => {
    const { emitter, app } = setup({ accessLog: false, loginAudit: false, basketAudit: false, logGuard: false, errorAudit: false });
    await request(app).post('/rest/user/login').set('Content-Type', 'application/json').send('{"email":"x","password":"y"}').expect(401);
    await request(app).get('/support/logs').expect(200);
    await request(app).get('/rest/basket/2').set('Authorization', `Bearer ${signRs256(payloadFor(userByEmail('admin@juice-sh.op')), keys)}`).expect(200);
    await request(app).get('/boom').set('Accept', 'application/json').expect(500).expect((res) => expect(res.body.error.stack).toContain('ENOENT'));
    await request(app).get('/ok').set('Authorization', 'Bearer x.y.z').expect(200);
    // The last request's event arrives after every earlier request's (sequential requests, events at 'finish').
    await waitFor(() => emitter.events.length > 0, 'the token event');
    expect(emitter.types()).toEqual(['authn_token_invalid']);
  });
});
