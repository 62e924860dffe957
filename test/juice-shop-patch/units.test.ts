/**
 * The preload's pieces on their own: settings from the environment, listen() with a forced host, the
 * request view morgan logs from, the require hook (in a child process), and the attacker entrypoint's argument defaults.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT, tempDir } from './helpers';

/* eslint-disable @typescript-eslint/no-require-imports -- the preload is CommonJS without types, by design */
interface Config {
  mode: string;
  collector?: { url: string; protocol: string; host: string; port: number };
  tls?: Record<string, unknown>;
  eventsFile?: string;
  spoolDir: string;
  hmacKey?: string;
  hmacSource: string;
  jwtPublicKey: { file?: string; pem?: string; from: string };
  trustedProxies: string[];
  sharedShapes?: boolean;
  bindHost?: string;
  expectWithinMs: number;
  packageDir: string;
  problems: string[];
}
const { readConfig } = require(path.join(ROOT, 'juice-shop-patch', 'lib', 'config.cjs')) as { readConfig(env: Record<string, string>, cwd?: string): Config };
const { listenArgsWithHost } = require(path.join(ROOT, 'juice-shop-patch', 'lib', 'listen.cjs')) as {
  listenArgsWithHost(args: unknown[], host: string): { args: unknown[]; forced: boolean };
};
const { redactedView } = require(path.join(ROOT, 'juice-shop-patch', 'lib', 'preload.cjs')) as {
  redactedView(req: object, redact: (url: string) => string): { originalUrl: string; url: string; headers: Record<string, string>; method: string };
};
const entrypoint = require(path.join(ROOT, 'docker', 'attacker-entrypoint.cjs')) as {
  withLabDefaults(argv: string[], env: Record<string, string>): string[];
  dependenciesFrom(env: Record<string, string>): Array<{ url: string; ok(status: number): boolean }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

describe('readConfig', () => {
  const base = { A09_COLLECTOR: 'tcp://collector:5514' };

  it('defaults: fixed mode, jwt.pub in the working folder, a spool per folder, random HMAC key', () => {
    const config = readConfig(base, '/srv/juice-shop');
    expect(config).toMatchObject({
      mode: 'fixed',
      collector: { url: 'tcp://collector:5514', protocol: 'tcp', host: 'collector', port: 5514 },
      jwtPublicKey: { file: 'encryptionkeys/jwt.pub', from: 'encryptionkeys/jwt.pub' },
      expectWithinMs: 10000,
      problems: [],
    });
    expect(config.hmacKey).toBeUndefined();
    expect(config.hmacSource).toMatch(/^random per process/);
    expect(config.spoolDir).toMatch(/a09-spool-[0-9a-f]{8}$/);
    expect(readConfig(base, '/srv/other').spoolDir).not.toBe(config.spoolDir);
    expect(config.packageDir).toBe(ROOT);
  });

  it.each([
    [{ A09_MODE: 'paranoid' }, /A09_MODE must be fixed, naive or off, not 'paranoid'/],
    [{ A09_COLLECTOR: 'collector:5514' }, /is not a URL|the scheme must be/],
    [{ A09_COLLECTOR: 'http://collector:5514' }, /the scheme must be tcp, tls or udp/],
    [{ A09_COLLECTOR: 'tcp://collector' }, /needs a host and a port/],
    [{ A09_COLLECTOR: '' }, /fixed mode needs A09_COLLECTOR .* or A09_EVENTS_FILE/],
    [{ A09_MODE: 'naive', A09_COLLECTOR: 'tcp://c:5514' }, /naive mode sends RFC 3164 over UDP.*: use udp:\/\/c:5514/],
    [{ A09_HMAC_KEY: 'short' }, /at least 16 bytes/],
    [{ A09_HMAC_KEY_FILE: '/nonexistent/hmac' }, /A09_HMAC_KEY_FILE \/nonexistent\/hmac: ENOENT/],
    [{ A09_EXPECT_WITHIN_MS: '-5' }, /A09_EXPECT_WITHIN_MS must be a positive integer/],
    [{ A09_HEARTBEAT_MS: 'soon' }, /A09_HEARTBEAT_MS must be a positive integer/],
    [{ A09_SHARED_SHAPES: 'yes' }, /A09_SHARED_SHAPES must be auto, on or off, not 'yes'/],
  ])('%j is refused', (env, message) => {
    expect(readConfig({ ...base, ...env }, '/tmp').problems.join('\n')).toMatch(message);
  });

  it('TLS files: read, paired, and only for tls://', () => {
    const dir = tempDir('config');
    try {
      const file = (name: string): string => {
        fs.writeFileSync(path.join(dir, name), `-----BEGIN ${name}-----\n`);
        return path.join(dir, name);
      };
      const ok = readConfig({ A09_COLLECTOR: 'tls://c:6514', A09_COLLECTOR_CA_FILE: file('ca'), A09_COLLECTOR_CERT_FILE: file('cert'), A09_COLLECTOR_KEY_FILE: file('key'), A09_COLLECTOR_SERVERNAME: 'collector.lab' });
      expect(ok.problems).toEqual([]);
      expect(Object.keys(ok.tls ?? {}).sort()).toEqual(['ca', 'cert', 'key', 'servername']);
      expect(readConfig({ A09_COLLECTOR: 'tls://c:6514', A09_COLLECTOR_CERT_FILE: file('cert') }).problems).toEqual([expect.stringMatching(/go together/)]);
      expect(readConfig({ A09_COLLECTOR: 'tcp://c:5514', A09_COLLECTOR_CA_FILE: file('ca') }).problems).toEqual([expect.stringMatching(/need a tls:\/\/ collector, not tcp:\/\//)]);
      fs.writeFileSync(path.join(dir, 'hmac'), '  a-key-from-a-docker-secret-file\n');
      expect(readConfig({ ...base, A09_HMAC_KEY_FILE: path.join(dir, 'hmac') })).toMatchObject({ hmacKey: 'a-key-from-a-docker-secret-file', problems: [] });
      expect(readConfig({ ...base, A09_HMAC_KEY_FILE: path.join(dir, 'hmac'), A09_HMAC_KEY: 'x'.repeat(20) }).problems).toEqual([expect.stringMatching(/not both/)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the public key as PEM text too, and a file with no collector', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    expect(readConfig({ A09_EVENTS_FILE: 'events.jsonl', A09_JWT_PUBLIC_KEY: pem }, '/srv/js')).toMatchObject({
      jwtPublicKey: { pem: pem.trim(), from: 'A09_JWT_PUBLIC_KEY (PEM)' },
      eventsFile: '/srv/js/events.jsonl',
      problems: [],
    });
    expect(readConfig({ A09_MODE: 'off' }).problems).toEqual([]);
    expect(readConfig({ ...base, A09_TRUSTED_PROXIES: ' 10.0.0.1, ,10.0.0.2 ' }).trustedProxies).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('A09_SHARED_SHAPES: auto leaves the choice to the middleware (by V8 version), on and off decide', () => {
    expect(readConfig(base).sharedShapes).toBeUndefined();
    expect(readConfig({ ...base, A09_SHARED_SHAPES: 'auto' })).toMatchObject({ sharedShapes: undefined, problems: [] });
    expect(readConfig({ ...base, A09_SHARED_SHAPES: 'ON' })).toMatchObject({ sharedShapes: true, problems: [] });
    expect(readConfig({ ...base, A09_SHARED_SHAPES: ' off ' })).toMatchObject({ sharedShapes: false, problems: [] });
  });
});

describe('listenArgsWithHost', () => {
  const cb = (): void => undefined;
  it.each([
    [[3000, cb], [3000, '127.0.0.1', cb], true],
    [['3000', cb], ['3000', '127.0.0.1', cb], true],
    [[3000], [3000, '127.0.0.1'], true],
    [[3000, '0.0.0.0', cb], [3000, '127.0.0.1', cb], true],
    [[3000, 511, cb], [3000, '127.0.0.1', 511, cb], true],
    [[cb], [0, '127.0.0.1', cb], true],
    [[], [0, '127.0.0.1'], true],
    [[{ port: 3000 }, cb], [{ port: 3000, host: '127.0.0.1' }, cb], true],
    [['/run/shop.sock', cb], ['/run/shop.sock', cb], false],
    [[{ path: '/run/shop.sock' }], [{ path: '/run/shop.sock' }], false],
  ])('%j -> %j', (args, expected, forced) => {
    expect(listenArgsWithHost(args, '127.0.0.1')).toEqual({ args: expected, forced });
  });

  it('the rewritten call really binds the host', async () => {
    const server = http.createServer();
    const { args } = listenArgsWithHost([0], '127.0.0.1');
    await new Promise<void>((resolve) => server.listen(...(args as [number, string]), () => resolve()));
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('redactedView (what morgan logs from)', () => {
  it('shows morgan the URL and referrer redacted and everything else as it is, leaving the request alone', () => {
    const req = { method: 'GET', originalUrl: '/rest/user/change-password?current=a&new=b', url: '/change-password?current=a&new=b', headers: { referer: 'http://x/?token=t', 'user-agent': 'curl' } };
    const view = redactedView(req, (url) => url.replace(/=[^&]*/g, '=[REDACTED]'));
    expect(view.originalUrl).toBe('/rest/user/change-password?current=[REDACTED]&new=[REDACTED]');
    expect(view.url).toBe('/change-password?current=[REDACTED]&new=[REDACTED]');
    expect(view.headers).toEqual({ referer: 'http://x/?token=[REDACTED]', 'user-agent': 'curl' });
    expect(view.method).toBe('GET');
    expect(req.originalUrl).toBe('/rest/user/change-password?current=a&new=b');
    expect(req.headers.referer).toBe('http://x/?token=t');
  });
});

describe('hookRequire', () => {
  it('wraps a package once, returns the same wrapper each time, gives the original while bypassed, and unhooks', () => {
    // In a plain node process: jest's module registry does not go through Module.prototype.require.
    const script = `
      const { hookRequire } = require(${JSON.stringify(path.join(ROOT, 'juice-shop-patch', 'lib', 'module-hook.cjs'))});
      let bypass = false; let wraps = 0;
      const unhook = hookRequire({ 'node:path': (exports) => ({ wrapped: exports, n: ++wraps }) }, () => bypass);
      const first = require('node:path'); const second = require('node:path');
      bypass = true; const bypassed = require('node:path'); bypass = false;
      unhook(); const after = require('node:path');
      console.log(JSON.stringify({ first: first.n, same: first === second, bypassed: bypassed.n ?? null, after: after.n ?? null, original: after === first.wrapped, wraps }));
    `;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(result.stdout)).toEqual({ first: 1, same: true, bypassed: null, after: null, original: true, wraps: 1 });
  });
});

describe('attacker entrypoint', () => {
  const env = { A09_ATTACK_TARGETS: 'stock=http://shop-stock:3000, fixed=http://shop-fixed:3000', A09_COLLECTOR_URL: 'http://collector:8514', A09_COLLECTOR_TOKEN: 'a-token-never-on-argv' };

  it('fills in targets and collector for `a09-lab attack`, never the token, and leaves other commands alone', () => {
    expect(entrypoint.withLabDefaults(['a09-lab', 'attack', '--scenario', 'brute-force'], env)).toEqual([
      'a09-lab', 'attack', '--scenario', 'brute-force',
      '--target', 'stock=http://shop-stock:3000', '--target', 'fixed=http://shop-fixed:3000', '--collector', 'http://collector:8514',
    ]);
    expect(entrypoint.withLabDefaults(['a09-lab', 'attack', '--target', 'http://x:1'], env)).toEqual(['a09-lab', 'attack', '--target', 'http://x:1', '--collector', 'http://collector:8514']);
    expect(entrypoint.withLabDefaults(['a09-lab', 'attack', '--help'], env)).toEqual(['a09-lab', 'attack', '--help']);
    expect(entrypoint.withLabDefaults(['a09-lab', 'verify'], env)).toEqual(['a09-lab', 'verify']);
    expect(entrypoint.withLabDefaults(['a09-lab', 'attack'], env).join(' ')).not.toContain('a-token-never-on-argv');
  });

  it('waits for the collector (200 on /health) and each target URL without its kind (any answer below 500)', () => {
    const deps = entrypoint.dependenciesFrom(env);
    expect(deps.map((d) => d.url)).toEqual(['http://collector:8514/health', 'http://shop-stock:3000', 'http://shop-fixed:3000']);
    expect([deps[0]?.ok(200), deps[0]?.ok(503), deps[1]?.ok(404), deps[1]?.ok(502), deps[1]?.ok(0)]).toEqual([true, false, true, false, false]);
  });
});
