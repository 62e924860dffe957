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
