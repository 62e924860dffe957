import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort, sleep } from './helpers';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

export function hasRsyslog(): boolean {
  try {
    fs.accessSync(RSYSLOGD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** One line of rsyslog's output: the fields rsyslog parsed out of a message. */
export interface RsyslogRecord {
  app: string;
  msgid: string;
  procid: string;
  /** STRUCTURED-DATA as received. */
  sd: string;
  host: string;
  pri: string;
  msg: string;
  /** imtcp or imudp. */
  input: string;
  /** rsyslog's own parse of the SD (mmpstrucdata): SD-ID -> PARAM-NAME -> value, unescaped. */
  sdparsed: Record<string, Record<string, string>>;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Every live rsyslogd we started, so a crashing test run still kills them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real rsyslogd in the foreground under the test's control: its own config, pid file and work
 * directory, imtcp (octet counting on) and imudp on free loopback ports, every message written as one
 * JSON line with the fields rsyslog parsed (mmpstrucdata parses the structured data).
 */
export class Rsyslog {
  readonly confFile: string;
  readonly pidFile: string;
  readonly outFile: string;
  /** rsyslogd's own stdout and stderr, for diagnosing a failed start. */
  readonly logFile: string;
  private child: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly tcpPort: number,
    readonly udpPort: number,
  ) {
    this.confFile = path.join(dir, 'rsyslog.conf');
    this.pidFile = path.join(dir, 'rsyslogd.pid');
    this.outFile = path.join(dir, 'received.jsonl');
    this.logFile = path.join(dir, 'rsyslogd.log');
    const work = path.join(dir, 'work');
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(
      this.confFile,
      `# maxMessageSize must be set before any module is loaded; imtcp switches an octet-counted frame larger
# than MaxFrameSize (default 200000) to LF framing, which would split it.
global(workDirectory="${work}" maxMessageSize="512k")
module(load="imtcp" MaxSessions="500" MaxFrameSize="600000")
module(load="imudp")
module(load="mmpstrucdata")
template(name="a09fields" type="list" option.jsonf="on") {
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="input" name="inputname" format="jsonf")
  property(outname="sdparsed" name="$!rfc5424-sd" format="jsonf")
}
ruleset(name="a09") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="${this.outFile}" template="a09fields")
}
input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="a09" supportOctetCountedFraming="on")
input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="a09")
`,
    );
  }

  static async start(dir: string): Promise<Rsyslog> {
    const rsyslog = new Rsyslog(dir, await freePort(), await freeUdpPort());
    await rsyslog.start();
    return rsyslog;
  }

  get tcpUrl(): string {
    return `tcp://127.0.0.1:${this.tcpPort}`;
  }

  get udpUrl(): string {
    return `udp://127.0.0.1:${this.udpPort}`;
  }

  get alive(): boolean {
    return this.child !== undefined;
  }

  /** Start rsyslogd and wait until its TCP input accepts connections. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error('rsyslogd is already running');
    fs.rmSync(this.pidFile, { force: true });
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(RSYSLOGD, ['-n', '-f', this.confFile, '-i', this.pidFile], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    running.add(child);
    child.on('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 15_000;
    while (!(await this.accepts())) {
      if (this.child !== child) throw new Error(`rsyslogd exited at start: ${fs.readFileSync(this.logFile, 'utf8')}`);
      if (Date.now() > deadline) throw new Error('rsyslogd did not open its TCP input');
      await sleep(20);
    }
  }

  /** Send a signal and, for the fatal ones, wait until the process is gone. */
  async signal(signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child === undefined) return;
    await this.signal('SIGCONT');
    await this.signal('SIGTERM');
  }

  /** The records written so far (a torn last line, mid-write, is left for the next read). */
  records(): RsyslogRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(this.outFile, 'utf8');
    } catch {
      return [];
    }
    const lines = text.split('\n');
    lines.pop();
    return lines.map((line) => {
      const raw = JSON.parse(line) as Omit<RsyslogRecord, 'sdparsed'> & { sdparsed: string };
      return { ...raw, sdparsed: raw.sdparsed === '' ? {} : (JSON.parse(raw.sdparsed) as RsyslogRecord['sdparsed']) };
    });
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: this.tcpPort });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }
}
