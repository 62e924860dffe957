/**
 * The demo lab: the collector service and three practice shops (stock, naive -> winston-syslog UDP,
 * fixed -> a09 sender TCP), each its own process on free loopback ports. Children write their console
 * to files in the lab folder (a shop's console is one of its log sinks) and stop with the lab.
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateToken } from '../../dashboard';
import type { LabCollectorControl } from '../scenario';
import type { LabShop } from '../target';
import type { TargetKind } from '../types';
import type { ChildConfig, ChildReady, CollectorChildConfig } from './child';

export interface LabShopProcess {
  kind: TargetKind;
  url: string;
  lab: LabShop;
}

export interface Lab {
  dir: string;
  /** The dashboard and API (`http://127.0.0.1:<port>/`). */
  collectorUrl: string;
  token: string;
  dbPath: string;
  control: LabCollectorControl;
  shops: LabShopProcess[];
  close(): Promise<void>;
}

export interface LabOptions {
  /** The lab's folder: the collector's store, the shops' folders, the consoles. */
  dir: string;
  token?: string;
  /** Where the child script is (default: next to this file, or the built dist when run from sources). */
  childScript?: string;
  startTimeoutMs?: number;
}

/** The lab cannot start: the message says why in one line. */
export class LabStartError extends Error {
  override name = 'LabStartError';
}

/** child.js beside this file; from TypeScript sources (tests), the built one in dist/. */
export function childScriptPath(): string {
  const here = path.join(__dirname, 'child.js');
  if (existsSync(here)) return here;
  const built = path.resolve(__dirname, '..', '..', '..', 'dist', 'src', 'attacks', 'lab', 'child.js');
  if (existsSync(built)) return built;
  throw new LabStartError(`cannot find the lab's child script (${here}); build first: npm run build`);
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const port = socket.address().port;
      socket.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 6): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/**
 * The children run as Juice Shop does; a test runner's NODE_ENV=test would silence errorhandler's console
 * output (one of the stock shop's log sinks), so it is not passed on.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  if (copy.NODE_ENV === 'test') delete copy.NODE_ENV;
  return copy;
}

interface Started {
  child: ChildProcess;
  ready: ChildReady;
}

function startChild(script: string, config: ChildConfig, consoleFile: string, timeoutMs: number): Promise<Started> {
  const fd = openSync(consoleFile, 'a');
  let child: ChildProcess;
  try {
    child = fork(script, [JSON.stringify(config)], { stdio: ['ignore', fd, fd, 'ipc'], execArgv: [], env: childEnvironment(process.env) });
  } finally {
    closeSync(fd);
  }
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      const last = tail(consoleFile);
      reject(new LabStartError(`${why}${last !== '' ? ` (${last})` : ''}`));
    };
    const timer = setTimeout(() => fail(`the lab's ${config.role} did not start within ${timeoutMs / 1000} s`), timeoutMs);
    child.once('exit', (code, signal) => fail(`the lab's ${config.role} exited (${signal ?? `code ${code}`})`));
    child.on('message', (message: ChildReady | { failed: string }) => {
      if ('failed' in message) {
        fail(`the lab's ${config.role} failed: ${message.failed}`);
        return;
      }
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, ready: message });
    });
  });
}

/** SIGTERM (SIGCONT first, in case it hangs), then SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  });
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const script = options.childScript ?? childScriptPath();
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const dir = path.resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const token = options.token ?? generateToken();
  const collectorConfig: CollectorChildConfig = {
    role: 'collector',
    dbPath: path.join(dir, 'collector.db'),
    udpPort: await freeUdpPort(),
    tcpPort: await freeTcpPort(),
    httpPort: await freeTcpPort(),
    token,
  };
  const collectorConsole = path.join(dir, 'collector.console.log');
  const children = new Set<ChildProcess>();
  let collector: ChildProcess | undefined;
  let collectorUrl = '';

  const startCollector = async (): Promise<void> => {
    const started = await startChild(script, collectorConfig, collectorConsole, timeoutMs);
    collector = started.child;
    children.add(collector);
    collectorUrl = started.ready.url;
  };

  const close = async (): Promise<void> => {
    await Promise.all([...children].map((child) => stopChild(child)));
    children.clear();
  };

  try {
    await startCollector();
    const shops = await Promise.all(
      (['stock', 'naive', 'fixed'] as const).map(async (kind): Promise<LabShopProcess> => {
        const shopDir = path.join(dir, `shop-${kind}`);
        mkdirSync(shopDir, { recursive: true });
        const consoleFile = path.join(dir, `shop-${kind}.console.log`);
        const port = kind === 'naive' ? collectorConfig.udpPort : kind === 'fixed' ? collectorConfig.tcpPort : undefined;
        const started = await startChild(script, { role: 'shop', mode: kind, dir: shopDir, ...(port !== undefined && { collectorPort: port }) }, consoleFile, timeoutMs);
        children.add(started.child);
        const ready = started.ready as Extract<ChildReady, { ready: 'shop' }>;
        return { kind, url: ready.url, lab: { logDir: ready.logDir, consoleFiles: [consoleFile], publicKeyPem: ready.publicKeyPem } };
      }),
    );
    const control: LabCollectorControl = {
      dbPath: collectorConfig.dbPath,
      stop: async () => {
        if (collector === undefined) return;
        const stopping = collector;
        collector = undefined;
        await stopChild(stopping);
        children.delete(stopping);
      },
      start: async () => {
        if (collector !== undefined) return;
        await startCollector();
      },
      hang: () => void collector?.kill('SIGSTOP'),
      resume: () => void collector?.kill('SIGCONT'),
    };
    return {
      dir,
      get collectorUrl() {
        return collectorUrl;
      },
      token,
      dbPath: collectorConfig.dbPath,
      control,
      shops,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
