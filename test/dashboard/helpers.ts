import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCollectorService, type CollectorService, type CollectorServiceOptions } from '../../src/dashboard';
import { defaultDetectionConfig, type DetectionConfig } from '../../src/detect';
import { EventSource, type AuditEvent, type EventInput } from '../../src/events';
import { frameOctetCounted } from '../../src/ship/framing';
import { formatRfc5424 } from '../../src/ship/rfc5424';

export const TOKEN = 'test-token-0123456789-abcdef';

export function tempDir(prefix = 'a09-dashboard-'): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The shipped rules, with updates sent at once (tests see a count change without waiting 5 s). */
export function eagerRules(): DetectionConfig {
  const config = defaultDetectionConfig();
  config.settings.updateIntervalMs = 0;
  return config;
}

/** Failures the services under test survived; a test that expects none checks this stays empty. */
export const serviceErrors: Error[] = [];

/** A service on free loopback ports with a known token; UDP off. */
export function startTestService(dbPath: string, options: Partial<CollectorServiceOptions> = {}): Promise<CollectorService> {
  return startCollectorService({
    dbPath,
    udp: false,
    tcp: { port: 0 },
    http: { port: 0 },
    token: TOKEN,
    rules: eagerRules(),
    store: { batchDelayMs: 5, synchronous: 'NORMAL' },
    alerts: { batchDelayMs: 5 },
    stream: { sourcesIntervalMs: 100 },
    onError: (error) => void serviceErrors.push(error),
    ...options,
  });
}

export function newSource(host = 'shop-1'): EventSource {
  return new EventSource({ app: 'juice-shop', host, hmacKey: 'dashboard-test-key' });
}

export const loginRequest = {
  who: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0' },
  where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: 'req-1', status: 401 },
};

export function loginFail(source: EventSource, email = 'jim@juice-sh.op', extra: Partial<EventInput> = {}): AuditEvent {
  return source.create({ type: 'authn_login_fail', outcome: 'failure', reason: 'bad credentials', email, ...loginRequest, ...extra });
}

/**
 * Sends events the way the project's transport does (RFC 5424 from src/ship, octet counting) over one TCP
 * connection, and waits for the collector's ACK of the last one (stored by then; with a gap the ACK says the
 * highest contiguous seq, so the caller names it).
 */
export async function sendEvents(port: number, events: readonly AuditEvent[], ackSeq?: number): Promise<void> {
  const last = events[events.length - 1];
  const wanted = ackSeq ?? last.seq;
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  const acked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ACK for seq ${wanted}`)), 10_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const done = received.split('\n').some((line) => {
        const [word, instance, seq] = line.split(' ');
        return word === 'ACK' && instance === last.instance && Number(seq) >= wanted;
      });
      if (done) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  socket.write(frameOctetCounted(events.map((event) => Buffer.from(formatRfc5424(event)))));
  try {
    await acked;
  } finally {
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }
}

/** Poll until the condition holds (asynchronous delivery; not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function bearer(token = TOKEN): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}
