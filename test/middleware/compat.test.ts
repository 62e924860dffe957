import http from 'node:http';
import { readFileSync } from 'node:fs';
import express from 'express';
import express5 from 'express5';
import request from 'supertest';
import { a09 } from '../../middleware';
import { forgeHs256, makeKeys, payloadFor, RecordingEmitter, signRs256, userByEmail, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

const versions = [
  { name: 'Express 4', expressModule: express, mounting: 'mount points' },
  { name: 'Express 5', expressModule: express5, mounting: 'mount points' },
  { name: 'Express 4', expressModule: express, mounting: 'a09.middleware()' },
  { name: 'Express 5', expressModule: express5, mounting: 'a09.middleware()' },
] as const;

const versionOf = (name: string): string => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

it('really runs two Express majors', () => {
  expect(versionOf('express5')).toMatch(/^5\./);
  expect(versionOf('express')).toMatch(/^4\./);
});

describe.each([express, express5])('req.a09 (%#: Express 4, 5)', (expressModule) => {
  it('is the typed context, per request, on the app\'s own request prototype only', async () => {
    const emitter = new RecordingEmitter();
    const app = expressModule();
    app.use(a09.middleware({ emitter }));
    app.get('/id', (req, res) => {
      res.json({ id: req.a09?.requestId, own: Object.prototype.hasOwnProperty.call(req, 'a09') });
    });
    const first = await request(app).get('/id').set('X-Request-Id', 'first-request-1').expect(200);
    const second = await request(app).get('/id').expect(200);
    expect(first.body).toEqual({ id: 'first-request-1', own: false });
    expect(second.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.prototype.hasOwnProperty.call(http.IncomingMessage.prototype, 'a09')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(http.ServerResponse.prototype, 'json')).toBe(false);
  });

  it('adds nothing the application can enumerate or serialise to its request, and nothing at all to its response', async () => {
    const seen = async (withA09: boolean): Promise<{ req: string[]; res: string[] }> => {
      const app = expressModule();
      if (withA09) app.use(a09.middleware({ emitter: new RecordingEmitter() }));
      let keys: { req: string[]; res: string[] } = { req: [], res: [] };
      app.post('/rest/user/login', (req, res) => {
        const found: string[] = [];
        for (const key in req) if (Object.prototype.hasOwnProperty.call(req, key)) found.push(key);
        // The response gets nothing at all, not even a symbol (a property added to an Express response
        // costs V8 a new hidden class per request); the request only its symbol-keyed context.
        keys = { req: found.sort(), res: Reflect.ownKeys(res).map(String).sort() };
        res.status(401).json({ context: withA09 ? req.a09?.requestId.length : 36 });
      });
      const response = await request(app).post('/rest/user/login').send({ email: 'a@b.c' }).expect(401);
      expect(response.body).toEqual({ context: 36 });
      return keys;
    };
    const bare = await seen(false);
    expect(bare.req.length).toBeGreaterThan(0);
    expect(await seen(true)).toEqual(bare);
  });
});

it('works on a plain Node server too (own property, instance-level capture)', async () => {
  const emitter = new RecordingEmitter();
  const middleware = a09.middleware({ emitter });
  const server = http.createServer((req, res) => {
    middleware(req as express.Request, res as express.Response, () => {
      res.statusCode = 401;
      res.end((req as express.Request).a09?.requestId ?? 'none');
    });
  });
  const response = await request(server).post('/rest/user/login').set('X-Request-Id', 'plain-node-1').send('{}').expect(401);
  expect(response.text).toBe('plain-node-1');
  await emitter.requests(1);
  expect(emitter.types()).toEqual(['authn_login_fail', 'http_request']);
  expect(emitter.only('authn_login_fail').where).toMatchObject({ requestId: 'plain-node-1', route: '/rest/user/login', status: 401 });
});

describe.each(versions)('$name via $mounting', ({ expressModule, mounting }) => {
  function setup() {
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem });
    return { emitter, app: miniShop(expressModule, { keys, stack, single: mounting !== 'mount points' }) };
  }
  const admin = () => signRs256(payloadFor(userByEmail('admin@juice-sh.op')), keys);

  it('records the login bypass, attributes it, and leaves the app answer alone', async () => {
    const { emitter, app } = setup();
    const response = await request(app).post('/rest/user/login').set('Content-Type', 'application/json').send('{"email":"\' OR 1=1--","password":"x"}').expect(200);
    expect(response.body.authentication.umail).toBe('admin@juice-sh.op');
    await emitter.requests(1);
    expect(emitter.types()).toEqual(['malicious_sqli', 'authn_login_success', 'http_request']);
    expect(emitter.only('malicious_sqli').severity).toBe(1);
    expect(emitter.refused).toEqual([]);
  });

  it('captures route ids, the duplicate-key manipulation and forged tokens', async () => {
    const { emitter, app } = setup();
    await request(app)
      .post('/api/BasketItems')
      .set('Authorization', `Bearer ${admin()}`)
      .set('Content-Type', 'application/json')
      .send('{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}')
      .expect(200);
    await request(app).get('/rest/basket/3').set('Authorization', `Bearer ${forgeHs256(payloadFor(userByEmail('jim@juice-sh.op')), keys.publicKeyPem)}`).expect(200);
    await emitter.requests(2);
    expect(emitter.types()).toEqual([
      'malicious_direct_reference',
      'authz_fail',
      'http_request',
      'authn_token_invalid',
      'authz_fail',
      'http_request',
    ]);
    const [, forgedRead] = emitter.ofType('authz_fail');
    expect(forgedRead).toMatchObject({ who: { userId: '2' }, detail: { basketId: '3', ownBasketId: '2', actorVerified: false } });
  });

  it('answers errors generically by Accept, records sys_error and refuses /support/logs', async () => {
    const { emitter, app } = setup();
    const error = await request(app).get('/boom').set('Accept', 'application/json').expect(500);
    expect(Object.keys(error.body.error).sort()).toEqual(['incidentId', 'message', 'status']);
    await request(app).get('/support/logs').expect(404);
    await emitter.requests(2);
    expect(emitter.only('sys_error').detail.incidentId).toBe(error.body.error.incidentId);
    expect(emitter.only('sensitive_read').outcome).toBe('blocked');
  });
});
