/**
 * The preload (juice-shop-patch/register.cjs) in real processes: the practice shop and a Juice-Shop-like
 * server.ts started as Juice Shop is (`node <entry>` with NODE_OPTIONS=--require register.cjs), events
 * shipped over TCP to the real collector. With JUICE_SHOP_DIR set, the same checks against a real
 * Juice Shop v20.1.1 build.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SCENARIOS, type RunReport } from '../../src/attacks';
import { startCollector, type CollectedRecord } from '../../src/collector';
import { startCollectorService, type CollectorService } from '../../src/dashboard';
import { localDateStamp } from '../../src/shop';
import { hasOpenssl, makeTestPki } from '../ship/tls-certs';
import {
  CLI,
  FIXTURE_SERVER,
  PRACTICE_APP,
  ROOT,
  buildFixture,
  childEnv,
  ensureBuilt,
  forgeHs256,
  forgeNone,
  preloadOption,
  send,
  spawnNode,
  startTestCollector,
  tempDir,
  type Child,
  type TestCollector,
} from './helpers';

jest.setTimeout(120000);

const HMAC_KEY = 'preload-test-hmac-key-0123456789';
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

beforeAll(() => {
  ensureBuilt();
});

/** The lines the preload printed on stdout. */
const preloadLines = (child: Child): string[] => child.stdout.split('\n').filter((line) => line.startsWith('a09 preload'));
const refusals = (child: Child): string[] => child.stderr.split('\n').filter((line) => line.includes('REFUSED'));

interface Target {
  base: string;
  /** The shop's folder (cwd): logs/ and encryptionkeys/jwt.pub. */
  folder: string;
  child: Child;
}

/**
 * The checks that say the drop-in works, for any shop with Juice Shop's routes (practice or real):
 * they run in order against one running shop and one collector.
 */
function dropInChecks(get: () => { target: Target; collector: TestCollector }): void {
  const passwordNew = 'Pre1oad-Canary-Pass!';

  it('prints one startup line naming every hook, and refuses nothing', () => {
    const { target } = get();
    const lines = preloadLines(target.child);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^a09 preload \(fixed\): hooked express\(\) \[request context, helmet, audits, log guard first; app\.param\(id, coupon\)\], jsonParser \[body snapshot after it\], errorhandler \[error audit, generic replies\], morgan \[access\.log URLs redacted\]; JWT key encryptionkeys\/jwt\.pub; events -> tcp:\/\/127\.0\.0\.1:\d+ \(spool [^)]+\); HMAC key A09_HMAC_KEY; listening on 127\.0\.0\.1:\d+/,
    );
    expect(refusals(target.child)).toEqual([]);
  });

  it('ships a failed login to the collector (pseudonymised, no password)', async () => {
    const { target, collector } = get();
    const response = await send(target.base, 'POST', '/rest/user/login', { json: { email: 'jim@juice-sh.op', password: 'not-jims-password' } });
    expect(response.status).toBe(401);
    const event = await collector.waitForEvent((e) => e.type === 'authn_login_fail', 'authn_login_fail');
    expect(event).toMatchObject({ outcome: 'failure', reason: 'bad_credentials', app: 'juice-shop', who: { emailMasked: 'j**@juice-sh.op', ip: '127.0.0.1' } });
    expect(event.who.emailId).toMatch(/^[0-9a-f]{24}$/);
    expect(JSON.stringify(event)).not.toMatch(/not-jims-password|jim@juice-sh\.op/);
  });

  it('recognises forged tokens (alg none, HS256 signed with jwt.pub)', async () => {
    const { target, collector } = get();
    const publicKey = fs.readFileSync(path.join(target.folder, 'encryptionkeys', 'jwt.pub'), 'utf8');
    const payload = { data: { id: 2, email: 'jim@juice-sh.op', password: md5('ncc-1701'), role: 'customer' }, bid: 2 };
    await send(target.base, 'GET', '/rest/basket/1', { headers: { Authorization: `Bearer ${forgeNone(payload)}` } });
    await send(target.base, 'GET', '/rest/basket/1', { headers: { Authorization: `Bearer ${forgeHs256(payload, publicKey)}` } });
    await collector.waitForEvent((e) => e.type === 'authn_token_invalid' && e.reason === 'alg_none', 'alg_none');
    const confused = await collector.waitForEvent((e) => e.type === 'authn_token_invalid' && e.reason === 'alg_confusion', 'alg_confusion');
    expect(confused.detail.signedWithPublicKey).toBe(true);
  });

  it("records a foreign basket read with the id Express resolved (app.param('id'))", async () => {
    const { target, collector } = get();
    const login = await send(target.base, 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'admin123' } });
    expect(login.status).toBe(200);
    const token = (JSON.parse(login.text) as { authentication: { token: string } }).authentication.token;
    const read = await send(target.base, 'GET', '/rest/basket/2', { headers: { Authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect((JSON.parse(read.text) as { data: { UserId: number } }).data.UserId).toBe(2);
    const event = await collector.waitForEvent(
      (e) => e.type === 'authz_fail' && e.reason === 'foreign_basket_read' && e.who.userId === '1',
      "admin's foreign_basket_read",
    );
    expect(event).toMatchObject({ outcome: 'allowed', who: { userId: '1' }, detail: { basketId: '2', ownBasketId: '1' } });
  });

  it('answers an error generically and ships sys_error with the same incident id', async () => {
    const { target, collector } = get();
    const response = await send(target.base, 'POST', '/rest/user/login', { json: { email: "'", password: 'x' }, headers: { Accept: 'application/json' } });
    expect(response.status).toBe(500);
    expect(response.text).not.toMatch(/SQLITE|SELECT|Sequelize|at /);
    const incidentId = (JSON.parse(response.text) as { error: { incidentId: string } }).error.incidentId;
    expect(incidentId).toMatch(/^[0-9a-f-]{36}$/);
    const event = await collector.waitForEvent((e) => e.type === 'sys_error' && e.detail.incidentId === incidentId, 'sys_error for the incident');
    expect(event.reason).toBe('unhandled_error');
  });

  it('refuses /support/logs (404) and ships sensitive_read', async () => {
    const { target, collector } = get();
    const response = await send(target.base, 'GET', '/support/logs', { headers: { Accept: 'application/json' } });
    expect(response.status).toBe(404);
    expect(response.text).not.toMatch(/access\.log/);
    const event = await collector.waitForEvent((e) => e.type === 'sensitive_read', 'sensitive_read');
    expect(event).toMatchObject({ outcome: 'blocked', reason: 'log_file_access' });
  });

  it("keeps change-password's passwords out of Juice Shop's own access log", async () => {
    const { target, collector } = get();
    const login = await send(target.base, 'POST', '/rest/user/login', { json: { email: 'bender@juice-sh.op', password: 'OhG0dPlease1nsertLiquor!' } });
    const token = (JSON.parse(login.text) as { authentication: { token: string } }).authentication.token;
    const query = `current=${encodeURIComponent('OhG0dPlease1nsertLiquor!')}&new=${encodeURIComponent(passwordNew)}&repeat=${encodeURIComponent(passwordNew)}`;
    const changed = await send(target.base, 'GET', `/rest/user/change-password?${query}`, { headers: { Authorization: `Bearer ${token}`, Referer: `http://shop/?token=${token}` } });
    expect(changed.status).toBe(200);
    await collector.waitForEvent((e) => e.type === 'http_request' && e.where.route === '/rest/user/change-password', 'the change-password request');
    const logFile = path.join(target.folder, 'logs', `access.log.${localDateStamp()}`);
    // Juice Shop's file-stream-rotator writes asynchronously: wait for the line.
    let log = '';
    for (let i = 0; i < 100 && !log.includes('change-password'); i++) {
      log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      if (!log.includes('change-password')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const line = log.split('\n').find((l) => l.includes('change-password')) ?? '';
    expect(line).toMatch(/GET \/rest\/user\/change-password\?current=\[REDACTED\]&new=\[REDACTED\]&repeat=\[REDACTED\] HTTP\/1\.1" 200/);
    for (const secret of ['OhG0dPlease1nsertLiquor', encodeURIComponent('OhG0dPlease1nsertLiquor!'), passwordNew, encodeURIComponent(passwordNew), token]) {
      expect(log).not.toContain(secret);
    }
  });

  it('ships nothing secret: no password, token or hash in any record the collector stored', () => {
    const { collector } = get();
    const all = collector.records.map((record) => record.message).join('\n');
    expect(collector.records.length).toBeGreaterThan(5);
    for (const secret of ['admin123', 'OhG0dPlease1nsertLiquor', passwordNew, md5('admin123'), 'eyJ']) expect(all).not.toContain(secret);
  });
}

describe('preload on the practice shop (a09-lab shop --mode stock, an unmodified Juice Shop structure)', () => {
  let dir: string;
  let collector: TestCollector;
  let target: Target;

  beforeAll(async () => {
    dir = tempDir('practice');
    collector = await startTestCollector(dir);
    const folder = path.join(dir, 'shop');
    const child = spawnNode('practice shop', [CLI, 'shop', '--mode', 'stock', '--port', '0', '--dir', folder], {
      cwd: dir,
      env: childEnv({
        NODE_OPTIONS: preloadOption(),
        A09_COLLECTOR: collector.tcpUrl,
        A09_SPOOL_DIR: path.join(dir, 'spool'),
        A09_HMAC_KEY: HMAC_KEY,
      }),
    });
    const [, base] = await child.waitFor(/Practice shop \(stock\) listening on (http:\/\/\S+)/);
    await child.waitFor(/^a09 preload/m);
    target = { base: base ?? '', folder, child };
  });

  afterAll(async () => {
    await target?.child.stop();
    await collector?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  dropInChecks(() => ({ target, collector }));
});

describe('the preload refuses loudly and the shop still serves', () => {
  let dir: string;
  let child: Child | undefined;

  beforeEach(() => {
    dir = tempDir('refuse');
  });
  afterEach(async () => {
    await child?.stop();
    child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** dist/src/shop/app.js: the practice shop's own CommonJS entry, as `node build/app.js`. */
  function startPracticeApp(env: Record<string, string>): Child {
    return spawnNode('app.js', [PRACTICE_APP], { cwd: dir, env: childEnv({ NODE_OPTIONS: preloadOption(), PORT: '0', ...env }) });
  }

  it('without the JWT public key: says so, mounts the rest, the shop answers', async () => {
    const events = path.join(dir, 'events.jsonl');
    child = startPracticeApp({ A09_JWT_PUBLIC_KEY: path.join(dir, 'nowhere', 'jwt.pub'), A09_EVENTS_FILE: events, A09_SPOOL_DIR: path.join(dir, 'spool') });
    const [, base] = await child.waitFor(/listening on (http:\/\/\S+)/);
    await child.waitFor(/^a09 preload/m);
    expect(child.stderr).toMatch(/^a09 preload: REFUSED JWT public key: cannot read \S*nowhere\/jwt\.pub: .*ENOENT.*Tokens are not verified/m);
    expect(preloadLines(child)[0]).toMatch(/^a09 preload \(fixed\): hooked express\(\).*JWT key MISSING \(\S+jwt\.pub\); events -> file /);
    expect((await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'admin123' } })).status).toBe(200);
    expect((await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'nope' } })).status).toBe(401);
    let lines: string[] = [];
    for (let i = 0; i < 100 && !lines.some((l) => l.includes('authn_login_fail')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lines = fs.existsSync(events) ? fs.readFileSync(events, 'utf8').split('\n') : [];
    }
    expect(lines.some((l) => l.includes('"type":"authn_login_fail"'))).toBe(true);
  });

  (hasOpenssl() ? it : it.skip)('ships over mutual TLS with A09_COLLECTOR_CA_FILE, _CERT_FILE and _KEY_FILE', async () => {
    const pki = makeTestPki(dir);
    const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') };
    fs.writeFileSync(files.ca, pki.ca);
    fs.writeFileSync(files.cert, pki.client.cert);
    fs.writeFileSync(files.key, pki.client.key);
    const records: CollectedRecord[] = [];
    const collector = await startCollector({
      dbPath: path.join(dir, 'tls.db'),
      host: '127.0.0.1',
      udp: false,
      tcp: false,
      tls: { port: 0, cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requireClientCert: true },
      onRecord: (record) => records.push(record),
      onError: () => undefined,
    });
    try {
      child = startPracticeApp({
        A09_COLLECTOR: `tls://127.0.0.1:${collector.addresses().tls?.port}`,
        A09_COLLECTOR_CA_FILE: files.ca,
        A09_COLLECTOR_CERT_FILE: files.cert,
        A09_COLLECTOR_KEY_FILE: files.key,
        A09_SPOOL_DIR: path.join(dir, 'spool'),
        A09_JWT_PUBLIC_KEY: path.join(dir, 'missing.pub'),
      });
      const [, base] = await child.waitFor(/listening on (http:\/\/\S+)/);
      expect((await child.waitFor(/^a09 preload.*$/m))[0]).toMatch(/events -> tls:\/\/127\.0\.0\.1:\d+/);
      await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'nope' } });
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && !records.some((r) => r.event?.type === 'authn_login_fail')) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(records.find((r) => r.event?.type === 'authn_login_fail')).toMatchObject({ transport: 'tls', format: 'rfc5424' });
    } finally {
      await child?.stop();
      child = undefined;
      await collector.close();
    }
  });

  it('with settings it cannot use: hooks nothing, says why, the shop runs as stock', async () => {
    child = startPracticeApp({ A09_COLLECTOR: 'ftp://collector:21', A09_MODE: 'fixed' });
    const [, base] = await child.waitFor(/listening on (http:\/\/\S+)/);
    await child.waitFor(/^a09 preload/m);
    expect(refusals(child)).toEqual(["a09 preload: REFUSED configuration: A09_COLLECTOR 'ftp://collector:21': the scheme must be tcp, tls or udp"]);
    expect(preloadLines(child)).toEqual([expect.stringMatching(/^a09 preload \(off\): nothing mounted; listening on 127\.0\.0\.1:\d+$/)]);
    // Stock behaviour: the stack trace reaches the user.
    const error = await send(base ?? '', 'GET', '/rest/user/change-password?new=a&repeat=a', { headers: { Accept: 'text/plain' } });
    expect(error.status).toBe(500);
    expect(error.text).toMatch(/Blocked illegal activity/);
  });

  it('when the built package is not there: REFUSED, NOT ACTIVE, the shop serves', async () => {
    child = startPracticeApp({ A09_PACKAGE_DIR: path.join(dir, 'no-package'), A09_EVENTS_FILE: path.join(dir, 'e.jsonl') });
    const [, base] = await child.waitFor(/listening on (http:\/\/\S+)/);
    await child.waitFor(/^a09 preload/m);
    expect(child.stderr).toMatch(/^a09 preload: REFUSED fixed mode: the built a09-lab package is not usable at \S+no-package: .*npm run build/m);
    expect(preloadLines(child)[0]).toMatch(/^a09 preload \(fixed\): NOT ACTIVE, the shop runs unprotected/);
    expect((await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'admin123' } })).status).toBe(200);
  });

  it('when no jsonParser shows up within A09_EXPECT_WITHIN_MS of listen: says so, the shop serves', async () => {
    const source = fs.readFileSync(FIXTURE_SERVER, 'utf8').replace('function jsonParser (', 'function parseJsonBody (');
    const entry = buildFixture(source, dir);
    child = spawnNode('fixture', [entry], {
      cwd: dir,
      env: childEnv({
        NODE_OPTIONS: preloadOption(),
        NODE_PATH: path.join(__dirname, '..', '..', 'node_modules'),
        PORT: '0',
        A09_BIND_HOST: '127.0.0.1',
        A09_EVENTS_FILE: path.join(dir, 'e.jsonl'),
        A09_SPOOL_DIR: path.join(dir, 'spool'),
        A09_EXPECT_WITHIN_MS: '500',
      }),
    });
    const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
    await child.waitFor(/^a09 preload/m);
    expect(child.stderr).toMatch(/^a09 preload: REFUSED jsonParser: no middleware named 'jsonParser' was mounted within 0\.5 s of listen/m);
    expect(preloadLines(child)[0]).toMatch(/jsonParser \[body snapshot after it\] NOT SEEN, errorhandler \[error audit, generic replies\],/);
    const answer = await send(`http://127.0.0.1:${port}`, 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'admin123' } });
    expect(answer.status).toBe(200);
  });
});

describe('preload on a Juice-Shop-like server.ts (new http.Server(app), server.listen(port), errorhandler.title set late)', () => {
  let dir: string;
  let entry: string;
  let child: Child | undefined;
  let collector: TestCollector | undefined;

  beforeAll(() => {
    dir = tempDir('fixture');
    entry = buildFixture(fs.readFileSync(FIXTURE_SERVER, 'utf8'), dir);
  });
  afterEach(async () => {
    await child?.stop();
    child = undefined;
    await collector?.close();
    collector = undefined;
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string>): Child =>
    spawnNode('fixture', [entry], {
      cwd: dir,
      env: childEnv({ NODE_OPTIONS: preloadOption(), NODE_PATH: path.join(__dirname, '..', '..', 'node_modules'), PORT: '0', ...env }),
    });

  it('binds to A09_BIND_HOST and keeps the title server.ts gave errorhandler on the generic page', async () => {
    collector = await startTestCollector(dir);
    child = start({ A09_BIND_HOST: '127.0.0.1', A09_COLLECTOR: collector.tcpUrl, A09_SPOOL_DIR: path.join(dir, 'spool-fixed') });
    const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
    const [line] = await child.waitFor(/^a09 preload.*$/m);
    expect(line).toMatch(/listening on 127\.0\.0\.1:\d+ \(bound to 127\.0\.0\.1 by A09_BIND_HOST\)$/);
    const page = await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password?current=a&new=b&repeat=b');
    expect(page.status).toBe(500);
    expect(page.text).toMatch(/<title>Fixture Shop \(Express 4\)<\/title>/);
    expect(page.text).not.toMatch(/Blocked illegal activity/);
    await collector.waitForEvent((e) => e.type === 'sys_error', 'sys_error');
  });

  it("hooks the shop's own app, not one a library creates while server.js imports it", async () => {
    const libDir = path.join(dir, 'library-app');
    fs.mkdirSync(path.join(libDir, 'node_modules', 'app-making-lib'), { recursive: true });
    // A dependency that makes its own express app at require time, before server.ts calls express().
    fs.writeFileSync(path.join(libDir, 'node_modules', 'app-making-lib', 'index.js'), "module.exports = require('express')();\n");
    const source = fs.readFileSync(FIXTURE_SERVER, 'utf8').replace("import morgan from 'morgan'\n", "import morgan from 'morgan'\nimport 'app-making-lib'\n");
    expect(source).toContain("import 'app-making-lib'");
    const libEntry = buildFixture(source, libDir);
    child = spawnNode('fixture', [libEntry], {
      cwd: libDir,
      env: childEnv({ NODE_OPTIONS: preloadOption(), NODE_PATH: path.join(__dirname, '..', '..', 'node_modules'), PORT: '0', A09_BIND_HOST: '127.0.0.1', A09_EVENTS_FILE: path.join(libDir, 'e.jsonl'), A09_SPOOL_DIR: path.join(libDir, 'spool') }),
    });
    const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
    const [line] = await child.waitFor(/^a09 preload.*$/m);
    expect(line).toMatch(/^a09 preload \(fixed\): hooked express\(\).*jsonParser \[body snapshot after it\], errorhandler \[error audit, generic replies\].*; 1 more express app\(s\) left alone$/);
    const page = await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password', { headers: { Accept: 'text/plain' } });
    expect(page.text).toMatch(/^500 Internal Server Error \(incident [0-9a-f-]{36}\)/);
  });

  it('naive mode: express-winston after jsonParser, winston-syslog (RFC 3164 over UDP) to the collector', async () => {
    collector = await startTestCollector(dir);
    child = start({ A09_MODE: 'naive', A09_BIND_HOST: '127.0.0.1', A09_COLLECTOR: collector.udpUrl, A09_LOG_DIR: path.join(dir, 'naive-logs') });
    const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
    const [line] = await child.waitFor(/^a09 preload.*$/m);
    expect(line).toMatch(/^a09 preload \(naive\): hooked express\(\), jsonParser \[express-winston after it\], errorhandler \[express-winston errorLogger before it\]; winston-syslog -> udp:\/\//);
    await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password?current=a&new=b&repeat=b', { headers: { Authorization: 'Bearer leaked-token-value' } });
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && !collector.records.some((r) => r.format === 'rfc3164' && r.message.includes('change-password'))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const naive = collector.records.filter((r) => r.format === 'rfc3164');
    // The foil: the naive team's logs carry what the fixed mode never ships.
    expect(naive.map((r) => r.message).join('\n')).toMatch(/leaked-token-value|current=a/);
    expect(collector.events()).toEqual([]);
  });

  it('A09_MODE=off: nothing mounted, still bound to loopback, the stock error page', async () => {
    child = start({ A09_MODE: 'off', A09_BIND_HOST: '127.0.0.1' });
    const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
    const [line] = await child.waitFor(/^a09 preload.*$/m);
    expect(line).toMatch(/^a09 preload \(off\): nothing mounted; listening on 127\.0\.0\.1:\d+ \(bound to 127\.0\.0\.1 by A09_BIND_HOST\)$/);
    const page = await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password', { headers: { Accept: 'text/plain' } });
    expect(page.text).toMatch(/Blocked illegal activity/);
  });
});

const JUICE_SHOP_DIR = process.env.JUICE_SHOP_DIR;
/**
 * Juice Shop v20.1.1 needs Node 22-26 (its engines; it exits at start on another version) and its sqlite3
 * addon must be built for that Node, while the tests may run on an older one: JUICE_SHOP_NODE names the
 * node binary that runs it.
 */
const JUICE_SHOP_NODE = process.env.JUICE_SHOP_NODE || undefined;
const describeRealJuiceShop = JUICE_SHOP_DIR !== undefined && JUICE_SHOP_DIR !== '' ? describe : describe.skip;
if (describeRealJuiceShop === describe.skip) {
  // Visible in the run's output, not only as a skipped count.
  console.log('preload.test: real Juice Shop checks (drop-in and every scenario\'s verdict) SKIPPED: set JUICE_SHOP_DIR to a Juice Shop v20.1.1 folder with build/app.js to run them (and JUICE_SHOP_NODE to a Node 22-26 binary when the tests run on an older Node)');
}

/**
 * The real Juice Shop from JUICE_SHOP_DIR with the preload, bound to loopback: `fixed` shipping to
 * `collectorUrl`, or `off` (stock: the preload only binds it to 127.0.0.1). One at a time: Juice Shop
 * rebuilds its SQLite database in its own folder at every start.
 */
async function startRealJuiceShop(mode: 'fixed' | 'off', dir: string, collectorUrl?: string, extraEnv: Record<string, string> = {}): Promise<Target> {
  const folder = path.resolve(JUICE_SHOP_DIR ?? '');
  if (!fs.existsSync(path.join(folder, 'build', 'app.js'))) throw new Error(`JUICE_SHOP_DIR=${folder} has no build/app.js`);
  const child = spawnNode(`Juice Shop (${mode})`, [path.join(folder, 'build', 'app.js')], {
    cwd: folder,
    ...(JUICE_SHOP_NODE !== undefined && { node: JUICE_SHOP_NODE }),
    env: childEnv({
      NODE_OPTIONS: preloadOption(),
      PORT: '0',
      A09_MODE: mode,
      A09_BIND_HOST: '127.0.0.1',
      A09_COLLECTOR: collectorUrl,
      A09_SPOOL_DIR: path.join(dir, `spool-${mode}`),
      A09_HMAC_KEY: HMAC_KEY,
      ...extraEnv,
    }),
  });
  try {
    // The preload prints its line once the server listens, which Juice Shop does after seeding its database.
    const [, address] = await child.waitFor(new RegExp(`^a09 preload \\(${mode}\\).*listening on (127\\.0\\.0\\.1:\\d+)`, 'm'), 'stdout', 110000);
    return { base: `http://${address}`, folder, child };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

// A09_SHARED_SHAPES=on: the drop-in checks run with requests and responses in dictionary mode whatever the Node
// version (the default turns it on only before Node 24); the scenario run below keeps the default.
describeRealJuiceShop(`preload on a real Juice Shop (JUICE_SHOP_DIR=${JUICE_SHOP_DIR ?? 'unset'}), A09_SHARED_SHAPES=on`, () => {
  let dir: string;
  let collector: TestCollector;
  let target: Target;

  beforeAll(async () => {
    dir = tempDir('juice-shop');
    collector = await startTestCollector(dir);
    target = await startRealJuiceShop('fixed', dir, collector.tcpUrl, { A09_SHARED_SHAPES: 'on' });
  }, 120000);

  afterAll(async () => {
    await target?.child.stop();
    await collector?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  dropInChecks(() => ({ target, collector }));
});

/** `a09-lab attack` (the built CLI, on the Node running the tests) against one target; its report as JSON. */
async function attack(kind: 'fixed' | 'stock', base: string, collectorUrl: string, token: string): Promise<{ code: number | null; report: RunReport; stderr: string }> {
  const child = spawnNode(`a09-lab attack (${kind})`, [CLI, 'attack', '--target', `${kind}=${base}`, '--collector', collectorUrl, '--token', token, '--json', '--no-report'], {
    cwd: ROOT,
    env: childEnv({}),
  });
  const timer = setTimeout(() => void child.stop(), 540000);
  try {
    const code = await child.exited;
    let report: RunReport;
    try {
      report = JSON.parse(child.stdout) as RunReport;
    } catch {
      throw new Error(`a09-lab attack (${kind}) exited with ${String(code)} without a JSON report\nstdout:\n${child.stdout}\nstderr:\n${child.stderr}`);
    }
    return { code, report, stderr: child.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Scenario id -> verdict label, for the one target of the run. */
const verdictsOf = (report: RunReport): Record<string, string> =>
  Object.fromEntries(report.scenarios.map((s) => [s.scenario.id, s.results.map((r) => r.verdict.label).join(' | ')]));

/** What `a09-lab attack` (no lab collector process) should say for each scenario on a target of this kind. */
function expectedVerdicts(kind: 'fixed' | 'failure shown'): Record<string, string> {
  return Object.fromEntries(SCENARIOS.map((s) => [s.id, s.scope === 'lab' ? `not run: needs ${s.needs}` : kind]));
}

describeRealJuiceShop(`every scenario under a09-lab attack on a real Juice Shop (JUICE_SHOP_DIR=${JUICE_SHOP_DIR ?? 'unset'})`, () => {
  const TOKEN = 'preload-test-collector-token-0123456789';
  let dir: string;
  let service: CollectorService;
  let target: Target | undefined;

  beforeAll(async () => {
    dir = tempDir('juice-shop-attack');
    service = await startCollectorService({ dbPath: path.join(dir, 'collector.db'), host: '127.0.0.1', udp: false, tcp: { port: 0 }, http: { host: '127.0.0.1', port: 0 }, token: TOKEN, onError: () => undefined });
  });
  afterEach(async () => {
    await target?.child.stop();
    target = undefined;
  });
  afterAll(async () => {
    await service?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the two scenarios that need the lab\'s collector process are the ones "not run" by design', () => {
    expect(SCENARIOS.filter((s) => s.scope === 'lab').map((s) => s.id)).toEqual(['collector-outage', 'log-tampering']);
  });

  it('with the preload (fixed): every runnable scenario is "fixed"', async () => {
    target = await startRealJuiceShop('fixed', dir, `tcp://127.0.0.1:${service.addresses.tcp?.port}`);
    const { code, report, stderr } = await attack('fixed', target.base, service.url, TOKEN);
    expect(verdictsOf(report)).toEqual(expectedVerdicts('fixed'));
    expect(report.targets).toEqual([expect.objectContaining({ kind: 'fixed', kindSource: 'given' })]);
    expect(code).toBe(0);
    expect(stderr).toContain(`all ${SCENARIOS.length} verdicts as expected`);
  }, 660000);

  it('stock (A09_MODE=off, only bound to loopback): every runnable scenario shows its failure', async () => {
    target = await startRealJuiceShop('off', dir);
    const { code, report, stderr } = await attack('stock', target.base, service.url, TOKEN);
    expect(verdictsOf(report)).toEqual(expectedVerdicts('failure shown'));
    expect(code).toBe(0);
    expect(stderr).toContain(`all ${SCENARIOS.length} verdicts as expected`);
  }, 660000);
});
