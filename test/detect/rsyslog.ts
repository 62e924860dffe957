import { type ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const haveRsyslogd = existsSync(RSYSLOGD);

/** What the upstream wrote per message: severity, facility, and the parts the alert line carries. */
export const LINE_TEMPLATE = '%syslogseverity%|%syslogfacility%|%app-name%|%msgid%|%structured-data%|%msg%\\n';

export interface Rsyslog {
  tcpPort: number;
  udpPort: number;
  /** Lines written so far. */
  lines(): string[];
  /** Poll the output until `predicate` holds for some line (or throw after timeoutMs). */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private rsyslogd in the foreground: its own config, pid file, work directory and loopback ports,
 * writing every message it receives to a file with LINE_TEMPLATE. Stopped by its pid.
 */
export async function startRsyslog(): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'a09-detect-rsyslog-'));
  const tcpPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const out = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
      `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      `template(name="alertLine" type="string" string="${LINE_TEMPLATE}")`,
      `action(type="omfile" file="${out}" template="alertLine")`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await tcpAccepts(tcpPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rsyslogd did not start: ${stderr}`);
    }
    await delay(50);
  }
  const lines = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((line) => line.length > 0) : []);
  return {
    tcpPort,
    udpPort,
    lines,
    async waitForLine(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = lines().find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > until) throw new Error(`rsyslogd wrote no matching line; it wrote:\n${lines().join('\n')}\n${stderr}`);
        await delay(50);
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
