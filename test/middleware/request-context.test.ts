import express from 'express';
import request from 'supertest';
import { a09 } from '../../middleware';
import { forgeHs256, forgeNone, makeKeys, payloadFor, RecordingEmitter, signRs256, tamper, userByEmail, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

function setup(options: { trustedProxies?: string[] } = {}) {
  const emitter = new RecordingEmitter();
  const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem, ...options });
  return { emitter, app: miniShop(express, { keys, stack }) };
}

const admin = () => userByEmail('admin@juice-sh.op');

describe('request id', () => {
  it('keeps a well-formed inbound X-Request-Id and replaces a malformed one', async () => {
    const { emitter, app } = setup();
    await request(app).get('/ok').set('X-Request-Id', 'req-0123456789abcdef');
    await request(app).get('/ok').set('X-Request-Id', 'bad id with <spaces>');
    await request(app).get('/ok').set('X-Request-Id', 'x'.repeat(65));
    await emitter.requests(3);
    const ids = emitter.ofType('http_request').map((event) => event.where.requestId);
    expect(ids[0]).toBe('req-0123456789abcdef');
    expect(ids[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
    expect(emitter.refused).toEqual([]);
  });

  it('does not add headers to the response by default (the app answers as before)', async () => {
    const { app } = setup();
    const response = await request(app).get('/ok');
    expect(response.headers['x-request-id']).toBeUndefined();
  });
});

describe('client address', () => {
  it('uses the socket peer and records X-Forwarded-For apart when no proxy is trusted', async () => {
    const { emitter, app } = setup();
    await request(app).get('/ok').set('X-Forwarded-For', '203.0.113.9');
    await emitter.requests(1);
    const event = emitter.only('http_request');
    expect(event.who.ip).toBe('127.0.0.1');
    expect(event.who.forwardedFor).toBe('203.0.113.9');
  });

  it('believes X-Forwarded-For hop by hop only from trusted proxies, and never a non-address', async () => {
    const { emitter, app } = setup({ trustedProxies: ['127.0.0.1', '10.0.0.2'] });
    await request(app).get('/ok').set('X-Forwarded-For', '198.51.100.7, 10.0.0.2');
    await request(app).get('/ok').set('X-Forwarded-For', 'not-an-ip, 10.0.0.2');
    await emitter.requests(2);
    const [first, second] = emitter.ofType('http_request');
    expect(first?.who.ip).toBe('198.51.100.7');
    expect(first?.detail.peer).toBe('127.0.0.1');
    expect(second?.who.ip).toBe('10.0.0.2');
  });
});

describe('actor from the Juice Shop JWT', () => {
  it('attributes requests with a valid RS256 token to the user, never logging the token or its hash', async () => {
    const { emitter, app } = setup();
    const token = signRs256(payloadFor(admin()), keys, { expiresIn: '6h' });
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${token}`).expect(200);
    await emitter.requests(1);
    const event = emitter.only('http_request');
    expect(event.who).toMatchObject({ userId: '1', role: 'admin', emailMasked: 'a**@juice-sh.op' });
    expect(event.who.emailId).toMatch(/^[0-9a-f]{24}$/);
    expect(emitter.ofType('authn_token_invalid')).toEqual([]);
    const serialised = JSON.stringify(emitter.events);
    expect(serialised).not.toContain(token);
    expect(serialised).not.toContain(token.split('.')[1]);
    expect(serialised).not.toContain((payloadFor(admin()).data as { password: string }).password);
    expect(serialised).not.toContain('admin@juice-sh.op');
  });

  it('reads the token from the `token` cookie when there is no Authorization header', async () => {
    const { emitter, app } = setup();
    const token = signRs256(payloadFor(admin()), keys);
    await request(app).get('/ok').set('Cookie', `language=en; token=${token}`);
    await emitter.requests(1);
    expect(emitter.only('http_request').who.userId).toBe('1');
  });

  type Attack = { name: string; reason: string; token: () => string; extra?: Record<string, unknown> };
  const attacks: Attack[] = [
    { name: 'alg none', reason: 'alg_none', token: () => forgeNone(payloadFor(admin())) },
    { name: 'alg NoNe (case games)', reason: 'alg_none', token: () => forgeNone(payloadFor(admin()), 'NoNe') },
    {
      name: 'RS256->HS256 confusion signed with the public key',
      reason: 'alg_confusion',
      token: () => forgeHs256(payloadFor(admin()), keys.publicKeyPem),
      extra: { signedWithPublicKey: true },
    },
    {
      name: 'HS256 with some other secret',
      reason: 'alg_confusion',
      token: () => forgeHs256(payloadFor(admin()), 'guessed-secret'),
      extra: { signedWithPublicKey: false },
    },
    {
      name: 'bad signature (payload changed after signing)',
      reason: 'bad_signature',
      token: () => tamper(signRs256(payloadFor(userByEmail('jim@juice-sh.op')), keys), payloadFor(admin())),
    },
    { name: 'expired', reason: 'expired', token: () => signRs256(payloadFor(admin()), keys, { expiresIn: -60 }) },
    { name: 'signed by another key', reason: 'bad_signature', token: () => signRs256(payloadFor(admin()), makeKeys()) },
    { name: 'garbage', reason: 'malformed', token: () => 'not.a.jwt' },
  ];

  it.each(attacks)('records authn_token_invalid for $name and attributes nothing to the claimed user', async ({ reason, token, extra }) => {
    const { emitter, app } = setup();
    const forged = token();
    await request(app).get('/ok').set('Authorization', `Bearer ${forged}`).expect(200);
    await emitter.requests(1);
    const event = emitter.only('authn_token_invalid');
    expect(event.reason).toBe(reason);
    expect(event.level).toBe('CRITICAL');
    expect(event.who.userId).toBeUndefined();
    expect(event.where).toMatchObject({ method: 'GET', url: '/ok', status: 200 });
    expect(event.detail).toMatchObject({ source: 'header', ...extra });
    if (reason !== 'malformed') expect(event.detail.claimedUserId).toBe('1');
    const access = emitter.only('http_request');
    expect(access.who.userId).toBeUndefined();
    expect(access.detail.tokenInvalid).toBe(reason);
    const serialised = JSON.stringify(emitter.events);
    expect(serialised).not.toContain(forged);
    expect(serialised).not.toContain((payloadFor(admin()).data as { password: string }).password);
    expect(emitter.refused).toEqual([]);
  });

  it('says whether the app accepted a forged token (Juice Shop accepts HS256 signed with the public key)', async () => {
    const { emitter, app } = setup();
    const forged = forgeHs256(payloadFor(admin()), keys.publicKeyPem);
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${forged}`).expect(200);
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${forgeHs256(payloadFor(admin()), 'x')}`).expect(401);
    await emitter.requests(2);
    const [accepted, refused] = emitter.ofType('authn_token_invalid');
    expect(accepted).toMatchObject({ outcome: 'allowed', detail: { appAccepted: true, signedWithPublicKey: true } });
    expect(refused).toMatchObject({ outcome: 'blocked', detail: { appAccepted: false, signedWithPublicKey: false } });
  });

  it('verifies each distinct token once (cached) and still notices expiry later', async () => {
    let now = Date.now();
    const { TokenVerifier } = await import('../../middleware');
    const verifier = new TokenVerifier({ publicKey: keys.publicKeyPem, now: () => now });
    const token = signRs256({ ...payloadFor(admin()), exp: Math.floor(now / 1000) + 60 }, keys);
    expect(verifier.verify(token, 'header')).toMatchObject({ state: 'valid', actor: { userId: '1' } });
    now += 61_000;
    expect(verifier.verify(token, 'header')).toMatchObject({ state: 'invalid', reason: 'expired' });
  });
});
