/**
 * naive mode is the honest foil: express-winston's defaults and concatenated route messages, shipped by
 * winston-syslog as RFC 3164 over UDP. These tests assert the leaks really reach the collector.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, loginAs, startShop, type RunningShop } from './helpers';

/** A UDP syslog receiver on loopback that keeps every datagram as text. */
async function startUdpCollector(): Promise<{ port: number; messages: string[]; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (message) => messages.push(message.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    messages,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const RFC3164_HEADER = /^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ \S+\[\d+\]: /;

let collector: Awaited<ReturnType<typeof startUdpCollector>>;
let running: RunningShop;

beforeAll(async () => {
  collector = await startUdpCollector();
  running = await startShop({ mode: 'naive', collector: { host: '127.0.0.1', port: collector.port }, naive: { console: false } });
});

afterAll(async () => {
  await running.stop();
  await collector.close();
});

const find = (needle: string): string | undefined => collector.messages.find((message) => message.includes(needle));

test('every datagram is an RFC 3164 line as winston-syslog produces it', async () => {
  await running.http.get('/rest/products/search?q=apple').expect(200);
  const message = await eventually(() => {
    const found = find('HTTP GET /rest/products/search?q=apple');
    expect(found).toBeDefined();
    return found ?? '';
  });
  expect(message).toMatch(RFC3164_HEADER);
  expect(message).toContain('info: HTTP GET /rest/products/search?q=apple');
});

test('the Authorization header (a JWT carrying the md5 password hash) reaches the collector', async () => {
  const { token } = await loginAs(running, 'jim@juice-sh.op', 'ncc-1701');
  await running.http.get('/rest/basket/2').set('Authorization', `Bearer ${token}`).expect(200);
  const message = await eventually(() => {
    const found = find('HTTP GET /rest/basket/2');
    expect(found).toContain(`"authorization":"Bearer ${token}"`);
    return found ?? '';
  });
  expect(message).toContain('"url":"/rest/basket/2"');
});

test('change-password query passwords reach the collector (URL and parsed query)', async () => {
  const { token } = await loginAs(running, 'bender@juice-sh.op', 'OhG0dPlease1nsertLiquor!');
  await running.http.get('/rest/user/change-password?current=OhG0dPlease1nsertLiquor!&new=slurmCl4ssic&repeat=slurmCl4ssic')
    .set('Authorization', `Bearer ${token}`).expect(200);
  const message = await eventually(() => {
    const found = find('HTTP GET /rest/user/change-password');
    expect(found).toBeDefined();
    return found ?? '';
  });
  expect(message).toContain('current=OhG0dPlease1nsertLiquor!&new=slurmCl4ssic');
  expect(message).toContain('"query":{"current":"OhG0dPlease1nsertLiquor!","new":"slurmCl4ssic","repeat":"slurmCl4ssic"}');
  await eventually(() => expect(find('info: Password changed for bender@juice-sh.op')).toBeDefined());
});

test('a newline in the login email arrives raw: the collector sees a forged second line', async () => {
  const forged = 'Nov 27 12:00:00 shop juice-shop[1]: info: User admin@juice-sh.op logged in';
  await running.http.post('/rest/user/login').send({ email: `nobody@example.com\n${forged}`, password: 'x' }).expect(401);
  const message = await eventually(() => {
    const found = find('Failed login for nobody@example.com');
    expect(found).toBeDefined();
    return found ?? '';
  });
  expect(message).toMatch(RFC3164_HEADER);
  expect(message).toContain(`warn: Failed login for nobody@example.com\n${forged}`);
  expect(message.split('\n')[1]).toBe(forged);
});

test('login messages are plain concatenation: the SQL injection payload is logged as the user name', async () => {
  await running.http.post('/rest/user/login').send({ email: "' OR 1=1--", password: 'x' }).expect(200);
  await eventually(() => expect(find("info: User ' OR 1=1-- logged in")).toBeDefined());
});

test('errors go out through express-winston errorLogger with the stack and the request headers', async () => {
  await running.http.get('/rest/user/change-password?current=admin123&new=x&repeat=x').set('Authorization', 'Bearer not-a-known-token').expect(500);
  const message = await eventually(() => {
    const found = collector.messages.find((text) => text.includes('middlewareError') && text.includes('Blocked illegal activity'));
    expect(found).toBeDefined();
    return found ?? '';
  });
  expect(message).toContain('error: middlewareError');
  expect(message).toContain('"authorization":"Bearer not-a-known-token"');
  expect(message).toContain('current=admin123');
});

test('the team\'s local app.log holds the same leaks and is served at /support/logs', async () => {
  await running.http.get('/rest/user/change-password?current=leaky&new=y&repeat=y').expect(500);
  const appLog = path.join(running.logDir, 'app.log');
  await eventually(() => expect(fs.readFileSync(appLog, 'utf8')).toContain('current=leaky'));
  const listing = await running.http.get('/support/logs').set('Accept', 'application/json').expect(200);
  expect(listing.body).toContain('app.log');
  const served = await running.http.get('/support/logs/app.log').buffer(true).parse((res, done) => {
    let text = '';
    res.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
    res.on('end', () => done(null, text));
  });
  expect(served.body).toContain('current=leaky');
});

test('stock mode writes no application log at all (only the access log)', async () => {
  const stock = await startShop({ mode: 'stock', collector: { host: '127.0.0.1', port: collector.port } });
  try {
    await stock.http.post('/rest/user/login').send({ email: 'admin@juice-sh.op', password: 'x' }).expect(401);
    const listing = await stock.http.get('/support/logs').set('Accept', 'application/json').expect(200);
    expect(listing.body).not.toContain('app.log');
    expect((listing.body as string[]).sort()).toEqual([path.basename(stock.shop.accessLogPath()), 'audit.json'].sort());
  } finally {
    await stock.stop();
  }
});
