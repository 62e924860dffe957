/**
 * `a09-lab shop`: argument errors in-process; `--juice-shop-dir` in real processes against a folder laid
 * out like a Juice Shop release (build/app.js compiled from the Juice-Shop-like server.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError, UserError } from '../../src/cli/command';
import { JuiceShopStartWatch, juiceShopEnvironment, juiceShopNode, preloadPath, shopCommand, withPreload } from '../../src/cli/commands/shop';
import { main } from '../../src/cli/main';
import { CLI, FIXTURE_SERVER, REGISTER, ROOT, buildFixture, childEnv, ensureBuilt, send, spawnNode, startTestCollector, tempDir } from './helpers';

jest.setTimeout(60000);

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('a09-lab shop: arguments', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('shop-args');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['--mode', 'secure'], /--mode must be stock, naive or fixed/],
    [['--port', '70000'], /--port wants a number/],
    [['--port', 'http'], /--port wants a number/],
    [['--mode', 'naive', '--collector', 'tcp://127.0.0.1:5514'], /naive mode sends RFC 3164 over UDP: --collector udp:\/\/127\.0\.0\.1:5514/],
    [['--mode', 'stock', '--collector', 'udp://127.0.0.1:5514'], /stock mode sends nothing/],
    [['--mode', 'fixed', '--collector', 'http://127.0.0.1:8514'], /--collector wants tcp:\/\/, tls:\/\/ or udp:\/\/host:port/],
    [['--host', ''], /--host is empty/],
    [['--node', process.execPath], /--node says which Node runs your Juice Shop: it goes with --juice-shop-dir/],
    [['--juice-shop-dir', '/opt/juice-shop', '--node', ''], /--node is empty/],
  ])('%j is a usage error', async (argv, message) => {
    await expect(shopCommand.run(argv)).rejects.toThrow(UsageError);
    await expect(shopCommand.run(argv)).rejects.toThrow(message);
  });

  it('says plainly when --juice-shop-dir is missing or has no build/app.js', async () => {
    await expect(shopCommand.run(['--juice-shop-dir', path.join(dir, 'nope')])).rejects.toThrow(new UserError(`--juice-shop-dir ${path.join(dir, 'nope')}: no such folder`));
    await expect(shopCommand.run(['--juice-shop-dir', dir])).rejects.toThrow(/no build\/app\.js \(a Juice Shop release, or a checkout after `npm install`/);
  });

  it('--node and A09_JUICE_SHOP_NODE: a file that is not there, not a file or not executable is one clear line', async () => {
    buildFixture(fs.readFileSync(FIXTURE_SERVER, 'utf8'), dir);
    const plain = path.join(dir, 'plain-file');
    fs.writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    const missing = path.join(dir, 'node-22');
    await expect(shopCommand.run(['--juice-shop-dir', dir, '--node', missing])).rejects.toThrow(
      new UserError(`--node ${missing}: no such file (give the path of the node binary that runs your Juice Shop)`),
    );
    await expect(shopCommand.run(['--juice-shop-dir', dir, '--node', plain])).rejects.toThrow(`--node ${plain}: not executable`);
    await expect(shopCommand.run(['--juice-shop-dir', dir, '--node', dir])).rejects.toThrow(`--node ${dir}: not a file`);
    expect(() => juiceShopNode(undefined, { A09_JUICE_SHOP_NODE: plain })).toThrow(`A09_JUICE_SHOP_NODE ${plain}: not executable`);
  });

  it('--node wins over A09_JUICE_SHOP_NODE, which wins over the Node running a09-lab', () => {
    const other = path.join(dir, 'other-node');
    fs.writeFileSync(other, '#!/bin/sh\n', { mode: 0o755 });
    expect(juiceShopNode(other, { A09_JUICE_SHOP_NODE: process.execPath })).toBe(other);
    expect(juiceShopNode(undefined, { A09_JUICE_SHOP_NODE: other })).toBe(other);
    expect(juiceShopNode(undefined, { A09_JUICE_SHOP_NODE: '' })).toBe(process.execPath);
  });

  it('is registered in the CLI, with its usage on --help', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['shop', '--help'])).toBe(0);
      expect(log.mock.calls.flat().join('\n')).toMatch(/a09-lab shop --juice-shop-dir PATH/);
    } finally {
      log.mockRestore();
    }
  });

  it('gives Juice Shop the preload, loopback, the port, and A09_MODE (stock = off)', () => {
    const flags = { mode: 'fixed' as const, port: 3000, host: '127.0.0.1', collector: 'tcp://10.0.0.5:5514' };
    const env = juiceShopEnvironment(flags, { NODE_OPTIONS: '--max-old-space-size=512', PATH: '/bin' }, '/opt/a 09/juice-shop-patch/register.cjs');
    expect(env).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=512 --require "/opt/a 09/juice-shop-patch/register.cjs"',
      A09_MODE: 'fixed',
      A09_BIND_HOST: '127.0.0.1',
      PORT: '3000',
      A09_COLLECTOR: 'tcp://10.0.0.5:5514',
      PATH: '/bin',
    });
    expect(juiceShopEnvironment({ mode: 'stock', port: 0, host: '::1' }, {}, '/p/register.cjs')).toMatchObject({ A09_MODE: 'off', A09_BIND_HOST: '::1', PORT: '0' });
    expect(juiceShopEnvironment({ mode: 'fixed', port: 1, host: 'h' }, {}, '/p').A09_EVENTS_FILE).toMatch(/\.a09\/juice-shop-events\.jsonl$/);
    expect(withPreload(undefined, '/x/register.cjs')).toBe('--require "/x/register.cjs"');
    expect(preloadPath()).toBe(REGISTER);
  });
});

describe('recognising a Juice Shop that stops at once on the wrong Node', () => {
  // As Juice Shop v20.1.1 prints it (winston simple format; colors.bold and colors.red on a terminal).
  const versionCheck = 'warn: Detected Node version \x1b[1mv20.20.2\x1b[22m is not in the supported version range of 22 - 26 (\x1b[31mERROR\x1b[39m)\n';
  const hintFor = (chunks: string[], code: number | null, signal: NodeJS.Signals | null): string | undefined => {
    const watch = new JuiceShopStartWatch();
    for (const chunk of chunks) watch.feed(chunk);
    return watch.hint(code, signal, '/usr/bin/node');
  };

  it('its own version check, even split across chunks', () => {
    const hint = 'a09-lab shop: Juice Shop refused Node v20.20.2 (it supports 22 - 26): give it a Node in that range (--node PATH or A09_JUICE_SHOP_NODE)';
    expect(hintFor([versionCheck, 'error: Exiting due to unsatisfied precondition!\n'], 1, null)).toBe(hint);
    expect(hintFor([versionCheck.slice(0, 30), versionCheck.slice(30)], 1, null)).toBe(hint);
  });

  it('a native module built for another Node, or a crash before it listens', () => {
    const dlopen = "Error: The module '/js/node_modules/sqlite3/build/Release/node_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 137.";
    expect(hintFor([dlopen], 1, null)).toMatch(/^a09-lab shop: a native module of this Juice Shop was built for another Node than \/usr\/bin\/node: .*\(--node PATH or A09_JUICE_SHOP_NODE\)$/);
    expect(hintFor([], null, 'SIGSEGV')).toMatch(/^a09-lab shop: Juice Shop crashed \(SIGSEGV\) at start on \/usr\/bin\/node; .*--node PATH/);
  });

  it('says nothing after a clean exit, a stop by signal, or once it listened', () => {
    expect(hintFor([versionCheck], 0, null)).toBeUndefined();
    expect(hintFor([], null, 'SIGTERM')).toBeUndefined();
    expect(hintFor([], 1, null)).toBeUndefined();
    expect(hintFor(['info: Server listening on port 3000\n'], null, 'SIGSEGV')).toBeUndefined();
  });
});

describe('a09-lab shop --juice-shop-dir (a folder laid out like a Juice Shop release)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('shop-jsd');
    buildFixture(fs.readFileSync(FIXTURE_SERVER, 'utf8'), dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs build/app.js from that folder with the preload, bound to 127.0.0.1, shipping to the collector', async () => {
    const collector = await startTestCollector(dir);
    const child = spawnNode('a09-lab shop', [CLI, 'shop', '--juice-shop-dir', dir, '--mode', 'fixed', '--port', '0', '--collector', collector.tcpUrl], {
      cwd: dir,
      env: childEnv({ NODE_PATH: path.join(ROOT, 'node_modules'), A09_SPOOL_DIR: path.join(dir, 'spool') }),
    });
    try {
      await child.waitFor(new RegExp(`^a09-lab shop: starting Juice Shop from \\S+ \\(fixed\\) on 127\\.0\\.0\\.1:0 with \\S+register\\.cjs, node ${escape(process.execPath)}$`, 'm'));
      const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
      await child.waitFor(/^a09 preload \(fixed\): hooked express\(\).*events -> tcp:\/\/127\.0\.0\.1:\d+.*\(bound to 127\.0\.0\.1 by A09_BIND_HOST\)$/m);
      const answer = await send(`http://127.0.0.1:${port}`, 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'guess' } });
      expect(answer.status).toBe(401);
      await collector.waitForEvent((e) => e.type === 'authn_login_fail', 'authn_login_fail');
      // SIGTERM to the CLI reaches Juice Shop; the CLI exits with it.
      expect(await child.stop()).toBe(0);
    } finally {
      await child.stop();
      await collector.close();
    }
  });

  it('--node (or A09_JUICE_SHOP_NODE) is the node that runs build/app.js', async () => {
    // A node that says it ran, then hands over to the real one.
    const wrapper = path.join(dir, 'node-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "node-wrapper ran: $*" >&2\nexec ${JSON.stringify(process.execPath)} "$@"\n`, { mode: 0o755 });
    for (const how of [['--node', wrapper], []]) {
      const child = spawnNode('a09-lab shop', [CLI, 'shop', '--juice-shop-dir', dir, '--port', '0', ...how], {
        cwd: dir,
        env: childEnv({ NODE_PATH: path.join(ROOT, 'node_modules'), A09_JUICE_SHOP_NODE: how.length === 0 ? wrapper : path.join(dir, 'not-used') }),
      });
      try {
        await child.waitFor(new RegExp(`^a09-lab shop: starting Juice Shop .*, node ${escape(wrapper)}$`, 'm'));
        await child.waitFor(new RegExp(`^node-wrapper ran: ${escape(path.join(dir, 'build', 'app.js'))}$`, 'm'), 'stderr');
        const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
        expect((await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password', { headers: { Accept: 'text/plain' } })).status).toBe(500);
        expect(await child.stop()).toBe(0);
      } finally {
        await child.stop();
      }
    }
  });

  it("when Juice Shop's own Node check refuses the Node: its message, then a one-line hint, exit 1", async () => {
    // The same folder, with an app.js that checks its engines range as Juice Shop v20 does at start.
    const refusing = tempDir('shop-refuse');
    try {
      fs.mkdirSync(path.join(refusing, 'build'));
      fs.writeFileSync(path.join(refusing, 'package.json'), JSON.stringify({ engines: { node: '98 - 99' } }));
      fs.writeFileSync(
        path.join(refusing, 'build', 'app.js'),
        `const range = require('../package.json').engines.node;
const [low, high] = range.split(' - ').map(Number);
const major = Number(process.versions.node.split('.')[0]);
if (major < low || major > high) {
  console.log('warn: Detected Node version \\x1b[1m' + process.version + '\\x1b[22m is not in the supported version range of ' + range + ' (\\x1b[31mERROR\\x1b[39m)');
  console.log('error: \\x1b[31mExiting due to unsatisfied precondition!\\x1b[39m');
  process.exit(1);
}
`,
      );
      const child = spawnNode('a09-lab shop', [CLI, 'shop', '--juice-shop-dir', refusing, '--port', '0'], { cwd: refusing, env: childEnv({}) });
      expect(await child.exited).toBe(1);
      expect(child.stdout).toMatch(/Exiting due to unsatisfied precondition!/);
      expect(child.stderr.trim().split('\n').at(-1)).toBe(
        `a09-lab shop: Juice Shop refused Node ${process.version} (it supports 98 - 99): give it a Node in that range (--node PATH or A09_JUICE_SHOP_NODE)`,
      );
    } finally {
      fs.rmSync(refusing, { recursive: true, force: true });
    }
  });

  it('stock: no a09 middleware, still on loopback', async () => {
    const child = spawnNode('a09-lab shop', [CLI, 'shop', '--juice-shop-dir', dir, '--port', '0'], {
      cwd: dir,
      env: childEnv({ NODE_PATH: path.join(ROOT, 'node_modules') }),
    });
    try {
      const [, port] = await child.waitFor(/Server listening on 127\.0\.0\.1 port (\d+)/);
      await child.waitFor(/^a09 preload \(off\): nothing mounted/m);
      const page = await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password', { headers: { Accept: 'text/plain' } });
      expect(page.text).toMatch(/Blocked illegal activity/);
    } finally {
      await child.stop();
    }
  });
});

describe('a09-lab shop --mode naive|fixed (the practice shop with its own logging, no preload)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('shop-modes');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fixed: ships audit events over TCP to the collector, in its own folder with encryptionkeys/jwt.pub', async () => {
    const collector = await startTestCollector(dir);
    const folder = path.join(dir, 'fixed');
    const child = spawnNode('a09-lab shop', [CLI, 'shop', '--mode', 'fixed', '--port', '0', '--dir', folder, '--collector', collector.tcpUrl], {
      cwd: dir,
      env: childEnv({ A09_HMAC_KEY: 'shop-command-test-hmac-key' }),
    });
    try {
      const [, base] = await child.waitFor(/Practice shop \(fixed\) listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await child.waitFor(new RegExp(`folder ${folder.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}; events -> tcp://127\\.0\\.0\\.1:\\d+ \\(spool \\S+\\)`));
      expect(fs.readFileSync(path.join(folder, 'encryptionkeys', 'jwt.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect((await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'jim@juice-sh.op', password: 'x' } })).status).toBe(401);
      await collector.waitForEvent((e) => e.type === 'authn_login_fail', 'authn_login_fail');
      expect(await child.stop()).toBe(0);
      expect(child.stdout).toMatch(/a09-lab shop: SIGTERM, stopping/);
    } finally {
      await child.stop();
      await collector.close();
    }
  });

  it('naive: winston-syslog sends RFC 3164 over UDP, raw email and all', async () => {
    const collector = await startTestCollector(dir);
    const child = spawnNode('a09-lab shop', [CLI, 'shop', '--mode', 'naive', '--port', '0', '--dir', path.join(dir, 'naive'), '--collector', collector.udpUrl], {
      cwd: dir,
      env: childEnv({}),
    });
    try {
      const [, base] = await child.waitFor(/Practice shop \(naive\) listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await send(base ?? '', 'POST', '/rest/user/login', { json: { email: 'jim@juice-sh.op', password: 'x' } });
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && !collector.records.some((r) => r.message.includes('Failed login for jim@juice-sh.op'))) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(collector.records.find((r) => r.message.includes('Failed login for jim@juice-sh.op'))).toMatchObject({ transport: 'udp', format: 'rfc3164' });
    } finally {
      await child.stop();
      await collector.close();
    }
  });
});
