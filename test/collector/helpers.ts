import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventSource, type AuditEvent, type EventInput } from '../../src/events';

/** A fresh directory for a test's SQLite file; remove() deletes it. */
export function tempDir(prefix = 'a09-collector-'): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const request = {
  who: { ip: '10.0.0.7', userId: '3' },
  where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: 'req-1' },
};

export function loginFail(source: EventSource, extra: Partial<EventInput> = {}): AuditEvent {
  return source.create({ type: 'authn_login_fail', outcome: 'failure', reason: 'bad credentials', email: 'jim@juice-sh.op', ...request, ...extra });
}

/** JSON with every non-ASCII character as \uXXXX: the shape of MSG in the ship contract. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const sdValue = (value: string): string => value.replace(/["\\\]]/g, (char) => `\\${char}`);

/** RFC 5424 as the ship contract describes it (a test-side formatter, independent of src/ship). */
export function format5424(event: AuditEvent, options: { procId?: string; facility?: number } = {}): string {
  const pri = (options.facility ?? 13) * 8 + event.severity;
  const params: Array<[string, string | number | undefined]> = [
    ['instance', event.instance],
    ['level', event.level],
    ['outcome', event.outcome],
    ['reason', event.reason],
    ['userId', event.who.userId],
    ['emailId', event.who.emailId],
    ['emailMasked', event.who.emailMasked],
    ['ip', event.who.ip],
    ['method', event.where.method],
    ['route', event.where.route],
    ['url', event.where.url],
    ['requestId', event.where.requestId],
    ['status', event.where.status],
  ];
  const sd = params
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${sdValue(String(value))}"`)
    .join('');
  return `<${pri}>1 ${event.time} ${event.host} ${event.app} ${options.procId ?? '4242'} ${event.type} [a09@32473${sd}][meta sequenceId="${event.seq}"] ${asciiJson(event)}`;
}

export function octet(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message) : message;
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

export function newSource(options: { host?: string; instance?: string; app?: string } = {}): EventSource {
  return new EventSource({ app: options.app ?? 'juice-shop', host: options.host ?? 'shop-1', instance: options.instance, hmacKey: 'test-key' });
}

/** Poll until the condition holds (for asynchronous delivery; not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP client that collects the ACK lines the collector writes back. */
export class TcpClient {
  readonly acks: string[] = [];
  private buffered = '';
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.buffered += text;
      let lf = this.buffered.indexOf('\n');
      while (lf !== -1) {
        this.acks.push(this.buffered.slice(0, lf));
        this.buffered = this.buffered.slice(lf + 1);
        lf = this.buffered.indexOf('\n');
      }
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new TcpClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  /** The highest seq acknowledged for an instance, 0 when none. */
  acked(instance: string): number {
    let highest = 0;
    for (const line of this.acks) {
      const [word, who, seq] = line.split(' ');
      if (word === 'ACK' && who === instance) highest = Math.max(highest, Number(seq));
    }
    return highest;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }
}
