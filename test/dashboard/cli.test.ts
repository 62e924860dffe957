import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import request from 'supertest';
import { main } from '../../src/cli/main';
import { verifyChain } from '../../src/collector';
import { loginFail, newSource, sendEvents, tempDir } from './helpers';
import { builtCli, ROOT } from '../attacks/dist';
import { captureConsole } from '../cli/console-capture';

/** The built CLI (built first when dist/ is missing or older than the sources, as the end-to-end tests do). */
let CLI = '';

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.A09_COLLECTOR_TOKEN === undefined) delete childEnv.A09_COLLECTOR_TOKEN;
  const child = spawn(process.execPath, [CLI, 'collector', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitForOutput(running: Running, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = pattern.exec(running.out());
    if (match !== null) return match;
    if (running.child.exitCode !== null) throw new Error(`exited ${running.child.exitCode}: ${running.out()} ${running.err()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${running.out()} ${running.err()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function address(output: string, name: string): { host: string; port: number } | undefined {
  const match = new RegExp(`^  ${name} +(?:http://)?([\\d.]+):(\\d+)`, 'm').exec(output);
  return match === null ? undefined : { host: match[1], port: Number(match[2]) };
}

const dir = tempDir('a09-cli-collector-');
afterAll(() => dir.remove());

describe('a09-lab collector (in process: argument errors)', () => {
  let io: ReturnType<typeof captureConsole>;
  beforeEach(() => (io = captureConsole()));
  afterEach(() => io.restore());

  it('is listed, and explains itself on --help', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(io.out.join('\n')).toMatch(/collector +run the syslog collector/);
    expect(await main(['collector', '--help'])).toBe(0);
    expect(io.out.join('\n')).toMatch(/--http ADDR[\s\S]*A09_COLLECTOR_TOKEN/);
  });

  it('answers a bad address or a lone --tls with the usage, exit 2', async () => {
    expect(await main(['collector', '--udp', 'here'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/--udp wants host:port or a port, not 'here'[\s\S]*a09-lab collector \[--config/);
    expect(await main(['collector', '--tls', '6514'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/TLS needs both --cert and --key/);
  });

  it('refuses a weak token, exit 1', async () => {
    expect(await main(['collector', '--token', 'secret', '--db', dir.file('weak.db')])).toBe(1);
    expect(io.err).toEqual(['a09-lab collector: the API token must be at least 16 characters (from --token)']);
  });

  it('says plainly when a port is taken, and leaves nothing running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const code = await main(['collector', '--db', dir.file('busy.db'), '--udp', 'off', '--tcp', '0', '--http', String(port)]);
      expect(code).toBe(1);
      expect(io.err.join('\n')).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a bad escalation URL before listening, exit 1', async () => {
    expect(await main(['collector', '--db', dir.file('hook.db'), '--udp', 'off', '--tcp', '0', '--http', '0', '--webhook', 'ftp://example.org/x'])).toBe(1);
    expect(io.err.join('\n')).toMatch(/^a09-lab collector: escalation: webhook URL "ftp:\/\/example.org\/x": the scheme must be http or https$/);
  });

  it('reports a bad config file by name and field', async () => {
    const file = dir.file('bad.yaml');
    writeFileSync(file, 'tcp: 0\nhttp: 0\nlistener: 5514\n');
    expect(await main(['collector', '--config', file])).toBe(1);
    expect(io.err.join('\n')).toMatch(/bad\.yaml: unknown setting 'listener'/);
  });
});

describe('a09-lab collector (spawned from dist)', () => {
  jest.setTimeout(120_000);
  beforeAll(() => {
    CLI = builtCli();
  });

  it('prints its addresses and a generated token, serves them, and stops cleanly on SIGTERM', async () => {
    const db = dir.file('spawned.db');
    const running = run(['--db', db, '--udp', '0', '--tcp', '0', '--http', '0']);
    try {
      const [, token] = await waitForOutput(running, /^ {2}token +([A-Za-z0-9_-]{43}) +\(generated/m);
      const output = running.out();
      const udp = address(output, 'udp');
      const tcp = address(output, 'tcp');
      const http = address(output, 'http');
      expect(udp).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
      expect(tcp?.port).toBeGreaterThan(0);
      expect(http?.host).toBe('127.0.0.1');
      expect(output).toContain(`  db    ${db}`);

      const shop = newSource();
      await sendEvents(tcp?.port ?? 0, Array.from({ length: 5 }, () => loginFail(shop)));
      const base = `http://127.0.0.1:${http?.port}`;
      expect((await request(base).get('/api/alerts')).status).toBe(401);
      let alerts: unknown[] = [];
      const deadline = Date.now() + 10_000;
      while (alerts.length === 0 && Date.now() < deadline) {
        const response = await request(base).get('/api/alerts').set('Authorization', `Bearer ${token}`);
        expect(response.status).toBe(200);
        alerts = response.body.alerts;
      }
      expect(alerts).toEqual([expect.objectContaining({ ruleId: 'brute_force_account', count: 5 })]);
    } finally {
      running.child.kill('SIGTERM');
    }
    expect(await running.exit).toBe(0);
    expect(running.out()).toMatch(/SIGTERM, stopping\na09-lab collector: stopped\n$/);
    expect(running.err()).toBe('');
    expect(verifyChain(db)).toMatchObject({ ok: true, checked: 5 });
  });

  it('takes settings from a YAML file and the token from the environment without echoing it', async () => {
    const config = dir.file('collector.yaml');
    writeFileSync(config, ['db: ./from-config.db', 'udp: off', 'tcp: 127.0.0.1:0', 'http: 0', 'tickMs: 500', ''].join('\n'));
    const secret = 'env-token-0123456789-abcdefgh';
    const running = run(['--config', config], { A09_COLLECTOR_TOKEN: secret });
    try {
      await waitForOutput(running, /^ {2}token +\(from A09_COLLECTOR_TOKEN\)$/m);
      const output = running.out();
      expect(output).not.toContain(secret);
      expect(address(output, 'udp')).toBeUndefined();
      expect(output).toContain(`  db    ${dir.file('from-config.db')}`);
      const http = address(output, 'http');
      const response = await request(`http://127.0.0.1:${http?.port}`).get('/api/health').set('Authorization', `Bearer ${secret}`);
      expect(response.status).toBe(200);
      expect(response.body.addresses.udp).toBeUndefined();
    } finally {
      running.child.kill('SIGINT');
    }
    expect(await running.exit).toBe(0);
    expect(running.out()).toMatch(/SIGINT, stopping/);
  });
});
