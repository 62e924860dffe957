/**
 * Contract: the practice shop answers every row of shared/juice-shop-v20-facts.md with the same status and
 * shape as Juice Shop v20.1.1. Other parts of the lab (middleware, attacks, detection) rely on this file.
 */
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { generateCoupon, localDateStamp, md5 } from '../../src/shop';
import { eventually, loginAs, payloadOf, startShop, type RunningShop } from './helpers';

let running: RunningShop;
let adminToken: string;

beforeAll(async () => {
  running = await startShop({ mode: 'stock' });
  adminToken = (await loginAs(running, 'admin@juice-sh.op', 'admin123')).token;
});

afterAll(async () => {
  await running.stop();
});

const bearer = (token: string): string => `Bearer ${token}`;

describe('POST /rest/user/login', () => {
  test('wrong password: 401 text/html "Invalid email or password."', async () => {
    const response = await running.http.post('/rest/user/login').send({ email: 'admin@juice-sh.op', password: 'x' });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toBe('Invalid email or password.');
  });

  test("email ' OR 1=1-- : 200, logged in as the first user (admin, basket 1)", async () => {
    const response = await running.http.post('/rest/user/login').send({ email: "' OR 1=1--", password: 'x' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ authentication: { token: expect.any(String), bid: 1, umail: 'admin@juice-sh.op' } });
  });

  test('admin@juice-sh.op / admin123: 200 with an RS256 token carrying { data: user incl. md5 password, bid, iat }', async () => {
    const response = await running.http.post('/rest/user/login').send({ email: 'admin@juice-sh.op', password: 'admin123' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ authentication: { token: expect.any(String), bid: 1, umail: 'admin@juice-sh.op' } });
    const token = (response.body as { authentication: { token: string } }).authentication.token;
    const verified = jwt.verify(token, running.shop.publicKeyPem, { algorithms: ['RS256'] }) as Record<string, unknown>;
    expect(verified).toEqual({
      data: expect.objectContaining({ id: 1, email: 'admin@juice-sh.op', password: md5('admin123'), role: 'admin', totpSecret: '' }),
      bid: 1,
      iat: expect.any(Number),
    });
    expect(verified.exp).toBeUndefined();
    expect(md5('admin123')).toBe('0192023a7bbd73250516f069df18b500');
  });

  test("a lone quote: 500 SequelizeDatabaseError: SQLITE_ERROR: unrecognized token, with stack", async () => {
    const response = await running.http.post('/rest/user/login').set('Accept', 'text/plain').send({ email: "'", password: 'x' });
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^SequelizeDatabaseError: SQLITE_ERROR: unrecognized token/);
    expect(response.text).toMatch(/\n {4}at /);
  });

  test('truncated JSON body: 500 SyntaxError: Unexpected end of JSON input, thrown in jsonParser', async () => {
    const response = await running.http.post('/rest/user/login').set('Content-Type', 'application/json')
      .set('Accept', 'text/plain').send('{"email":');
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^SyntaxError: Unexpected end of JSON input/);
    expect(response.text).toContain('at jsonParser');
  });

  test('TOTP user with the right password: 401 JSON totp_token_required with a tmpToken', async () => {
    const response = await running.http.post('/rest/user/login')
      .send({ email: 'wurstbrot@juice-sh.op', password: 'EinBelegtesBrotMitSchinkenSCHINKEN!' });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'totp_token_required', data: { tmpToken: expect.any(String) } });
    const tmpToken = (response.body as { data: { tmpToken: string } }).data.tmpToken;
    expect(payloadOf(tmpToken)).toMatchObject({ userId: 10, type: 'password_valid_needs_second_factor_token' });
  });

  test('jim and bender log in with their well-known passwords (baskets 2 and 3)', async () => {
    expect((await loginAs(running, 'jim@juice-sh.op', 'ncc-1701')).bid).toBe(2);
    expect((await loginAs(running, 'bender@juice-sh.op', 'OhG0dPlease1nsertLiquor!')).bid).toBe(3);
  });
});

describe('GET /rest/basket/:id', () => {
  test('own basket: 200 with Products and their BasketItem', async () => {
    const response = await running.http.get('/rest/basket/1').set('Authorization', bearer(adminToken));
    expect(response.status).toBe(200);
    const body = response.body as { status: string; data: { id: number; UserId: number; coupon: unknown; Products: Record<string, unknown>[] } };
    expect(body.status).toBe('success');
    expect(body.data).toMatchObject({ id: 1, UserId: 1, coupon: null });
    expect(body.data.Products.length).toBeGreaterThan(0);
    for (const product of body.data.Products) {
      expect(product).toMatchObject({ id: expect.any(Number), name: expect.any(String), price: expect.any(Number) });
      expect(product.BasketItem).toMatchObject({ ProductId: product.id, BasketId: 1, quantity: expect.any(Number) });
    }
  });

  test("jim's basket with the admin token: 200, data.UserId 2 (no ownership check)", async () => {
    const response = await running.http.get('/rest/basket/2').set('Authorization', bearer(adminToken));
    expect(response.status).toBe(200);
    expect((response.body as { data: { UserId: number } }).data.UserId).toBe(2);
  });

  test('without a token: 401 HTML UnauthorizedError: No Authorization header was found', async () => {
    const response = await running.http.get('/rest/basket/2');
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('UnauthorizedError: No Authorization header was found');
    expect(response.text).toContain('<ul id="stacktrace">');
  });
});

describe('POST and PUT /api/BasketItems', () => {
  test('a foreign BasketId: 401 {\'error\' : \'Invalid BasketId\'}', async () => {
    const response = await running.http.post('/api/BasketItems').set('Authorization', bearer(adminToken))
      .send({ ProductId: 6, BasketId: '2', quantity: 1 });
    expect(response.status).toBe(401);
    expect(response.text).toBe("{'error' : 'Invalid BasketId'}");
  });

  test('duplicate BasketId: the check reads the first, the insert the last (id 9 into basket 2)', async () => {
    const response = await running.http.post('/api/BasketItems').set('Authorization', bearer(adminToken))
      .set('Content-Type', 'application/json').send('{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'success', data: expect.objectContaining({ id: 9, ProductId: 7, BasketId: '2', quantity: 1 }) });
    const basket = await running.http.get('/rest/basket/2').set('Authorization', bearer(adminToken)).expect(200);
    const products = (basket.body as { data: { Products: { id: number }[] } }).data.Products;
    expect(products.map((product) => product.id)).toContain(7);
  });

  test('own basket: 200; PUT changes the quantity (any item, no ownership check)', async () => {
    const added = await running.http.post('/api/BasketItems').set('Authorization', bearer(adminToken))
      .send({ ProductId: 5, BasketId: '1', quantity: 1 }).expect(200);
    const id = (added.body as { data: { id: number } }).data.id;
    const updated = await running.http.put(`/api/BasketItems/${id}`).set('Authorization', bearer(adminToken)).send({ quantity: 3 });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ status: 'success', data: expect.objectContaining({ id, quantity: 3, BasketId: 1 }) });
    const foreign = await running.http.put('/api/BasketItems/4').set('Authorization', bearer(adminToken)).send({ quantity: 1 });
    expect(foreign.status).toBe(200);
  });

  test('over the per-user limit: 400 JSON error', async () => {
    const response = await running.http.post('/api/BasketItems').set('Authorization', bearer(adminToken))
      .send({ ProductId: 1, BasketId: '1', quantity: 6 });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'You can order only up to 5 items of this product.' });
  });

  test('without a token: 401', async () => {
    await running.http.post('/api/BasketItems').send({ ProductId: 6, BasketId: '2', quantity: 1 }).expect(401);
  });
});

describe('checkout and coupon', () => {
  test('PUT coupon: 200 {discount} for this month\'s coupon, 404 "Invalid coupon." otherwise', async () => {
    const coupon = generateCoupon(10);
    const valid = await running.http.put(`/rest/basket/3/coupon/${encodeURIComponent(coupon)}`).set('Authorization', bearer(adminToken));
    expect(valid.status).toBe(200);
    expect(valid.body).toEqual({ discount: 10 });
    const invalid = await running.http.put('/rest/basket/3/coupon/NOTACOUPON').set('Authorization', bearer(adminToken));
    expect(invalid.status).toBe(404);
    expect(invalid.text).toBe('Invalid coupon.');
  });

  test('POST checkout: 200 {orderConfirmation}, basket emptied', async () => {
    const { token } = await loginAs(running, 'bender@juice-sh.op', 'OhG0dPlease1nsertLiquor!');
    const response = await running.http.post('/rest/basket/3/checkout').set('Authorization', bearer(token)).send({});
    expect(response.status).toBe(200);
    const orderId = (response.body as { orderConfirmation: string }).orderConfirmation;
    expect(orderId).toMatch(new RegExp(`^${md5('bender@juice-sh.op').slice(0, 4)}-[0-9a-f]{16}$`));
    const basket = await running.http.get('/rest/basket/3').set('Authorization', bearer(token)).expect(200);
    expect((basket.body as { data: { Products: unknown[]; coupon: unknown } }).data).toMatchObject({ Products: [], coupon: null });
  });

  test('checkout of a basket that does not exist: 500 through the error handler', async () => {
    const response = await running.http.post('/rest/basket/999/checkout').set('Authorization', bearer(adminToken)).set('Accept', 'text/plain');
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^Error: Basket with id=999 does not exist\./);
  });
});

describe('GET /rest/user/change-password', () => {
  test('with a Bearer token: 200 {user} including the new md5 password', async () => {
    const { token } = await loginAs(running, 'jim@juice-sh.op', 'ncc-1701');
    const response = await running.http.get('/rest/user/change-password?current=ncc-1701&new=kirk-1701&repeat=kirk-1701')
      .set('Authorization', bearer(token));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user: expect.objectContaining({ id: 2, email: 'jim@juice-sh.op', password: md5('kirk-1701') }) });
    await loginAs(running, 'jim@juice-sh.op', 'kirk-1701');
  });

  test('without a token: 500 Error: Blocked illegal activity by 127.0.0.1, with stack', async () => {
    const response = await running.http.get('/rest/user/change-password?current=admin123&new=x&repeat=x').set('Accept', 'text/plain');
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^Error: Blocked illegal activity by 127\.0\.0\.1\n {4}at /);
  });

  test('wrong current password: 401; mismatch: 401', async () => {
    const response = await running.http.get('/rest/user/change-password?current=nope&new=y&repeat=y').set('Authorization', bearer(adminToken));
    expect(response.status).toBe(401);
    expect(response.text).toBe('Current password is not correct.');
    const mismatch = await running.http.get('/rest/user/change-password?new=y&repeat=z').set('Authorization', bearer(adminToken));
    expect(mismatch.status).toBe(401);
    expect(mismatch.text).toBe('New and repeated password do not match.');
  });
});

describe('GET /rest/user/whoami', () => {
  test('the token cookie names the user; no cookie: an empty user', async () => {
    const withCookie = await running.http.get('/rest/user/whoami').set('Cookie', `token=${adminToken}`);
    expect(withCookie.status).toBe(200);
    expect(withCookie.body).toEqual({ user: { id: 1, email: 'admin@juice-sh.op', lastLoginIp: '0.0.0.0', profileImage: expect.any(String) } });
    const anonymous = await running.http.get('/rest/user/whoami');
    expect(anonymous.body).toEqual({ user: {} });
  });
});

describe('GET /rest/products/search', () => {
  test('q=juice: 200 {status, data: products}', async () => {
    const response = await running.http.get('/rest/products/search?q=juice');
    expect(response.status).toBe(200);
    const data = (response.body as { data: { name: string }[] }).data;
    expect(data.length).toBeGreaterThan(3);
    expect(data.every((product) => /juice/i.test(product.name) || product.name.length > 0)).toBe(true);
  });

  test("q=')) : 500 SQLITE_ERROR: near \")\": syntax error; the JSON variant carries the sql text", async () => {
    const html = await running.http.get("/rest/products/search?q='))");
    expect(html.status).toBe(500);
    expect(html.text).toContain('SQLITE_ERROR: near &quot;)&quot;: syntax error');
    const json = await running.http.get("/rest/products/search?q='))").set('Accept', 'application/json');
    expect(json.status).toBe(500);
    const error = (json.body as { error: { message: string; sql: string; code: string } }).error;
    expect(error.message).toBe('SQLITE_ERROR: near ")": syntax error');
    expect(error.code).toBe('SQLITE_ERROR');
    expect(error.sql).toContain("SELECT * FROM Products WHERE ((name LIKE '%'))%'");
  });

  test('UNION injection reads the Users table', async () => {
    const q = "')) UNION SELECT id, email, password, role, '4', '5', '6', '7', '8' FROM Users--";
    const response = await running.http.get(`/rest/products/search?q=${encodeURIComponent(q)}`);
    expect(response.status).toBe(200);
    expect(response.text).toContain(md5('admin123'));
  });
});

describe('/support/logs', () => {
  test('listing: HTML by default, JSON array for Accept: application/json, download of an access log', async () => {
    const { token } = await loginAs(running, 'bender@juice-sh.op', 'OhG0dPlease1nsertLiquor!');
    await running.http.get('/rest/user/change-password?current=OhG0dPlease1nsertLiquor!&new=slurmCl4ssic&repeat=slurmCl4ssic')
      .set('Authorization', bearer(token)).expect(200);
    const accessLog = `access.log.${localDateStamp()}`;

    const html = await running.http.get('/support/logs');
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toContain(accessLog);

    const json = await running.http.get('/support/logs').set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual([accessLog, 'audit.json']);

    const download = await eventually(async () => {
      const response = await running.http.get(`/support/logs/${accessLog}`).buffer(true).parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
        res.on('end', () => done(null, text));
      });
      expect(response.body).toContain('slurmCl4ssic');
      return response;
    });
    expect(download.status).toBe(200);
    const lines = (download.body as string).split('\n');
    const leak = lines.find((line) => line.includes('change-password?current=OhG0dPlease1nsertLiquor!&new=slurmCl4ssic&repeat=slurmCl4ssic'));
    // morgan combined: remote - user [date] "request" status length "referrer" "user agent"
    expect(leak).toMatch(/^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/rest\/user\/change-password\?\S+ HTTP\/1\.1" 200 \d+ "-" ".*"$/);
  });

  test('unknown file: 404 error page with ENOENT and the absolute path', async () => {
    const response = await running.http.get('/support/logs/foo.txt').set('Accept', 'text/plain');
    expect(response.status).toBe(404);
    expect(response.text).toContain(`ENOENT: no such file or directory, stat '${path.join(running.shop.logDir, 'foo.txt')}'`);
  });
});

describe('/encryptionkeys', () => {
  test('lists and serves the RS256 public key to anyone; it verifies the shop\'s tokens', async () => {
    const listing = await running.http.get('/encryptionkeys').set('Accept', 'application/json');
    expect(listing.status).toBe(200);
    expect(listing.body).toEqual(['jwt.pub']);
    const key = await running.http.get('/encryptionkeys/jwt.pub').buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      res.on('end', () => done(null, text));
    });
    expect(key.status).toBe(200);
    expect(key.body).toBe(running.shop.publicKeyPem);
    expect(() => jwt.verify(adminToken, key.body as string, { algorithms: ['RS256'] })).not.toThrow();
  });

  test('unknown key file: 404 with ENOENT', async () => {
    const response = await running.http.get('/encryptionkeys/premium.key').set('Accept', 'text/plain');
    expect(response.status).toBe(404);
    expect(response.text).toContain('ENOENT');
  });
});

describe('error pages and other Juice Shop behaviour', () => {
  test('errorhandler negotiates HTML, JSON and text with the stack each time', async () => {
    const url = '/rest/user/change-password?new=x&repeat=x';
    const html = await running.http.get(url).set('Accept', 'text/html');
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toContain('<title>Error: Blocked illegal activity by 127.0.0.1</title>');
    expect(html.text).toContain('OWASP Juice Shop (Express 4.');
    expect(html.text).toMatch(/<li> &nbsp; &nbsp;at /);
    const json = await running.http.get(url).set('Accept', 'application/json');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body).toEqual({ error: { message: 'Blocked illegal activity by 127.0.0.1', stack: expect.stringMatching(/^Error: Blocked.*\n {4}at /s) } });
    const text = await running.http.get(url).set('Accept', 'text/plain');
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^Error: Blocked illegal activity by 127\.0\.0\.1\n {4}at /);
  });

  test('UnauthorizedError as JSON has no stack (express-jwt 0.1.3 never captured one)', async () => {
    const response = await running.http.get('/rest/basket/1').set('Accept', 'application/json');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: {
      message: 'No Authorization header was found', name: 'UnauthorizedError', code: 'credentials_required', status: 401,
      inner: { message: 'No Authorization header was found' },
    } });
  });

  test('routes answering 500 themselves: country-mapping (empty body), reviews without a message (JSON)', async () => {
    const mapping = await running.http.get('/rest/country-mapping');
    expect(mapping.status).toBe(500);
    expect(mapping.text).toBe('');
    const review = await running.http.put('/rest/products/1/reviews').send({ author: 'admin@juice-sh.op' });
    expect(review.status).toBe(500);
    expect(review.body).toEqual(expect.stringContaining('NOT NULL constraint failed'));
    await running.http.put('/rest/products/1/reviews').send({ message: 'tasty', author: 'admin@juice-sh.op' }).expect(201);
  });

  test('unknown API path: 500 Unexpected path; any other path: the client page', async () => {
    const api = await running.http.get('/api/Nothing').set('Accept', 'text/plain');
    expect(api.status).toBe(500);
    expect(api.text).toMatch(/^Error: Unexpected path: \/api\/Nothing/);
    const page = await running.http.get('/#/login');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<app-root>');
  });

  test('headers as Juice Shop ships them: no X-Powered-By, nosniff, frameguard', async () => {
    const response = await running.http.get('/rest/products/search?q=apple');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});
