import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventSource, type AuditEvent, type EventInput } from '../../src/events';
import { parseOctetCounted } from '../../src/ship/framing';

export function tempDir(prefix = 'a09-ship-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function httpInput(overrides: Partial<EventInput> = {}): EventInput {
  return {
    type: 'http_request',
    outcome: 'success',
    who: { ip: '127.0.0.1' },
    where: { method: 'GET', route: '/rest/products', url: '/rest/products?q=1', requestId: 'req-1', status: 200 },
    ...overrides,
  };
}

export function makeEvents(count: number, source = new EventSource({ app: 'a09-test', host: 'test-host', hmacKey: 'k' })): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => source.create(httpInput({ detail: { n: i + 1 } })));
}

/** Poll until `check` holds; no timing assertion, only a bound on how long a test may hang. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface TestCollectorOptions {
  /** Answer `ACK <instance> <seq>` for every message received (the highest seq per instance). */
  ack?: boolean;
  /** Stop reading from sockets (backpressure test). */
  paused?: boolean;
}

/** A tiny octet-counting TCP collector on 127.0.0.1: records what arrives, optionally acknowledges it. */
export class TestCollector {
  readonly messages: string[] = [];
  readonly sockets = new Set<net.Socket>();
  connections = 0;
  private readonly received = new Map<string, { contiguous: number; seen: Set<number> }>();
  private readonly server: net.Server;
  private paused: boolean;

  private constructor(private readonly options: TestCollectorOptions) {
    this.paused = options.paused ?? false;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(options: TestCollectorOptions = {}, port = 0): Promise<TestCollector> {
    const collector = new TestCollector(options);
    await new Promise<void>((resolve, reject) => {
      collector.server.once('error', reject);
      collector.server.listen(port, '127.0.0.1', () => resolve());
    });
    return collector;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /** The seq values received (from `[meta sequenceId="N"]`). */
  seqs(): number[] {
    return this.messages.map((message) => Number(/\[meta sequenceId="(\d+)"\]/.exec(message)?.[1] ?? NaN));
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Drop every connection at once (the collector crashed), keep listening. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.paused) socket.pause();
    let rest = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest: left } = parseOctetCounted(Buffer.concat([rest, chunk]));
      rest = Buffer.from(left);
      const touched = new Set<string>();
      for (const message of messages) {
        const text = message.toString('utf8');
        this.messages.push(text);
        const instance = /instance="([^"]+)"/.exec(text)?.[1];
        const seq = Number(/\[meta sequenceId="(\d+)"\]/.exec(text)?.[1]);
        if (instance === undefined) continue;
        touched.add(instance);
        const state = this.received.get(instance) ?? { contiguous: 0, seen: new Set<number>() };
        this.received.set(instance, state);
        if (seq > state.contiguous) state.seen.add(seq);
        while (state.seen.has(state.contiguous + 1)) state.seen.delete(++state.contiguous);
      }
      // Acknowledge the highest contiguous seq, as the project's collector does.
      if (this.options.ack === true) {
        for (const instance of touched) socket.write(`ACK ${instance} ${this.received.get(instance)!.contiguous}\n`);
      }
    });
  }
}

/** A port nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
