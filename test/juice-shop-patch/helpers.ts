/**
 * Real processes for the preload tests: shops started the way Juice Shop is started (a CommonJS entry
 * run by node with NODE_OPTIONS), the real collector (src/collector) receiving what they ship.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { startCollector, type Collector, type CollectedRecord } from '../../src/collector';
import type { AuditEvent } from '../../src/events';

export const ROOT = path.resolve(__dirname, '..', '..');
export const REGISTER = path.join(ROOT, 'juice-shop-patch', 'register.cjs');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
export const PRACTICE_APP = path.join(ROOT, 'dist', 'src', 'shop', 'app.js');
export const FIXTURE_SERVER = path.join(__dirname, 'fixtures', 'juice-shop', 'server.ts');

const BUILT = [
  CLI,
  PRACTICE_APP,
  path.join(ROOT, 'dist', 'src', 'cli', 'commands', 'shop.js'),
  path.join(ROOT, 'dist', 'middleware', 'index.js'),
  path.join(ROOT, 'dist', 'src', 'ship', 'index.js'),
  path.join(ROOT, 'dist', 'src', 'shop', 'naive.js'),
];

/**
 * The preload loads the built package (dist/), as it does in the Docker image. `npm test` builds first;
 * when run alone (npx jest test/juice-shop-patch) and dist/ is missing, build it here.
 */
export function ensureBuilt(): void {
  if (BUILT.every((file) => fs.existsSync(file))) return;
  // tsc emits even when another part of the tree has type errors; the files below are what we need.
  spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'ignore' });
  const missing = BUILT.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) throw new Error(`build the package first (npx tsc -p tsconfig.json): missing ${missing.join(', ')}`);
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `a09-jsp-${tag}-`));
}

/** Environment for a child: ours, minus anything A09_ or NODE_OPTIONS that the caller did not set. */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('A09_') && key !== 'NODE_OPTIONS' && key !== 'PORT' && key !== 'SHOP_MODE') env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export const preloadOption = (file = REGISTER): string => `--require ${JSON.stringify(file)}`;

/** A child process whose output is kept, with waits on it. */
export class Child {
  stdout = '';
  stderr = '';
  exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(readonly proc: ChildProcess, readonly name: string) {
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.add('stdout', chunk));
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.add('stderr', chunk));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => {
      this.notify();
      resolve(code);
    }));
  }

  private add(stream: 'stdout' | 'stderr', chunk: string): void {
    this[stream] += chunk;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in stdout (or stderr with `stream`). */
  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 20000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = pattern.exec(this[stream]);
        if (match !== null) {
          done();
          resolve(match);
          return true;
        }
        if (!this.running) {
          done();
          const how = this.proc.signalCode !== null ? `signal ${this.proc.signalCode}` : `code ${String(this.proc.exitCode)}`;
          reject(new Error(`${this.name} exited (${how}) before printing ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${pattern} on ${stream} within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => {
        check();
      };
      this.listeners.add(listener);
      check();
    });
  }

  async stop(): Promise<number | null> {
    if (this.running) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `node` defaults to the Node running the tests; a real Juice Shop may need another (see JUICE_SHOP_NODE). */
export function spawnNode(name: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; node?: string }): Child {
  return new Child(spawn(options.node ?? process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] }), name);
}

/** The real collector on free loopback ports, keeping every record it stored. */
export interface TestCollector {
  collector: Collector;
  tcpUrl: string;
  udpUrl: string;
  records: CollectedRecord[];
  events(): AuditEvent[];
  waitForEvent(predicate: (event: AuditEvent) => boolean, what: string, timeoutMs?: number): Promise<AuditEvent>;
  close(): Promise<void>;
}

export async function startTestCollector(dir: string): Promise<TestCollector> {
  const records: CollectedRecord[] = [];
  const waiters = new Set<() => void>();
  const collector = await startCollector({
    dbPath: path.join(dir, 'collector.db'),
    host: '127.0.0.1',
    udp: { port: 0 },
    tcp: { port: 0 },
    tls: false,
    onRecord: (record) => {
      records.push(record);
      for (const waiter of [...waiters]) waiter();
    },
    onError: () => undefined,
  });
  const addresses = collector.addresses();
  const events = (): AuditEvent[] => records.flatMap((record) => (record.event !== undefined ? [record.event] : []));
  return {
    collector,
    tcpUrl: `tcp://127.0.0.1:${addresses.tcp?.port}`,
    udpUrl: `udp://127.0.0.1:${addresses.udp?.port}`,
    records,
    events,
    waitForEvent: (predicate, what, timeoutMs = 20000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events().find(predicate);
          if (found === undefined) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`the collector got no ${what} within ${timeoutMs} ms; it has: ${events().map((e) => `${e.type}/${e.reason ?? '-'}`).join(', ')}`));
        }, timeoutMs);
        const waiter = (): void => {
          check();
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        check();
      }),
    close: () => collector.close(),
  };
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`: a token with no signature, which express-jwt 0.1.3 accepts. */
export function forgeNone(payload: object): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** RS256 -> HS256 confusion: HMAC-SHA256 keyed with the public key's PEM text. */
export function forgeHs256(payload: object, publicKeyPem: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...payload, iat: Math.floor(Date.now() / 1000) })}`;
  return `${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`;
}

/** The fixture server.ts as Juice Shop's build would compile it (CommonJS), with an app.js entry beside it. */
export function buildFixture(serverSource: string, dir: string): string {
  const build = path.join(dir, 'build');
  fs.mkdirSync(build, { recursive: true });
  const output = ts.transpileModule(serverSource, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  fs.writeFileSync(path.join(build, 'server.js'), output);
  fs.writeFileSync(path.join(build, 'app.js'), "require('./server').start()\n");
  return path.join(build, 'app.js');
}

/** Plain HTTP against a shop, one connection per request (nothing kept alive past a test). */
export function send(
  base: string,
  method: string,
  url: string,
  options: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${url}`, { method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, headers: response.headers }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}
