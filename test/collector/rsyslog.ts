import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((file) => existsSync(file));

/** RFC 5424 out of whatever rsyslog parsed, without a trailing LF (octet counting frames it). */
export const FORWARD_TEMPLATE =
  'template(name="a09fwd" type="string" string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%")';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A private rsyslogd in the foreground: own config, pid file and work directory; stop() kills it. */
export class Rsyslogd {
  private exited: Promise<number | null>;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `config` is the rest of rsyslog.conf (modules, inputs, rulesets) after the global settings. */
  static async start(dir: string, config: string, waitPort: number): Promise<Rsyslogd> {
    const confFile = path.join(dir, 'rsyslog.conf');
    writeFileSync(confFile, `global(workDirectory="${dir}" maxMessageSize="64k")\n${config}\n`);
    const child = spawn(RSYSLOGD as string, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const daemon = new Rsyslogd(child, dir);
    try {
      await Promise.race([
        waitForPort(waitPort),
        daemon.exited.then((code) => {
          throw new Error(`rsyslogd exited with ${code}: ${daemon.stderr}`);
        }),
      ]);
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  get output(): string {
    return this.stderr;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  readFile(name: string): string {
    const file = path.join(this.dir, name);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}
