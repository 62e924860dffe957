import * as fs from 'node:fs';
import * as path from 'node:path';
import winston from 'winston';
import { EventSource, type AuditEvent } from '../../src/events';
import { SyslogTransport, type MonitorChange, type SyslogTransportOptions } from '../../src/ship/transport';
import { AUDIT_SD_ID } from '../../src/ship/rfc5424';
import { freePort, httpInput, makeEvents, TestCollector, tempDir, waitFor, type TestCollectorOptions } from './helpers';
import { parseRfc5424, sdParams } from './rfc5424-parser';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function transport(options: Partial<SyslogTransportOptions> & Pick<SyslogTransportOptions, 'collector'>): SyslogTransport {
  const dir = options.spoolDir ?? tempDir();
  const made = new SyslogTransport({ spoolDir: dir, backoff: { initialMs: 5, maxMs: 50 }, closeTimeoutMs: 500, ...options });
  cleanups.push(async () => {
    await made.close();
    if (options.spoolDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  return made;
}

async function collector(options: TestCollectorOptions = {}, port = 0): Promise<TestCollector> {
  const started = await TestCollector.start(options, port);
  cleanups.push(() => started.stop());
  return started;
}

function send(target: SyslogTransport, events: AuditEvent[], priority = false): void {
  for (const event of events) target.log({ level: 'info', message: event.description, event, priority }, () => undefined);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('SyslogTransport', () => {
  it('delivers events in order as strict RFC 5424, octet counted, over TCP', async () => {
    const sink = await collector();
    const ship = transport({ collector: sink.url });
    const events = makeEvents(300);
    send(ship, events);
    await waitFor(() => sink.messages.length === 300);
    expect(sink.seqs()).toEqual(range(1, 300));
    const parsed = parseRfc5424(sink.messages[7]);
    expect(parsed.msgId).toBe('http_request');
    expect(sdParams(parsed, AUDIT_SD_ID)?.instance).toBe(events[7].instance);
    expect(JSON.parse(parsed.msg!)).toEqual(events[7]);
    expect(ship.stats()).toMatchObject({ appended: 300, sent: 300, lost: 0, unsent: 0, replayed: 0 });
  });

  it('works as a winston transport and ignores infos that carry no audit event', async () => {
    const sink = await collector();
    const ship = transport({ collector: sink.url });
    const logger = winston.createLogger({ levels: winston.config.syslog.levels, transports: [ship] });
    const [event] = makeEvents(1);
    logger.log({ level: 'info', message: 'x', event });
    logger.log({ level: 'info', message: 'plain text, no event' });
    await waitFor(() => sink.messages.length === 1 && ship.stats().ignored === 1);
    expect(sink.seqs()).toEqual([1]);
    logger.close();
  });

  it('against a collector that acknowledges everything, a reconnect resends nothing and the spool is trimmed', async () => {
    const sink = await collector({ ack: true });
    const ship = transport({ collector: sink.url, replayWindowCount: 1_000_000, spoolSegmentBytes: 8192 });
    const acks: number[] = [];
    ship.connection.on('ack', (_instance: string, seq: number) => acks.push(seq));
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    send(ship, Array.from({ length: 100 }, () => source.create(httpInput({ detail: { padding: 'a'.repeat(500) } }))));
    await waitFor(() => acks.includes(100));
    expect(ship.stats().ackMode).toBe(true);
    // A reconnect after everything was acknowledged resends nothing.
    sink.dropConnections();
    await waitFor(() => sink.connections === 2 && ship.stats().connected);
    await waitFor(() => ship.stats().unsent === 0);
    expect(sink.messages).toHaveLength(100);
    expect(ship.stats().replayed).toBe(0);
    // Acknowledged segments go (the active one stays): far fewer records than were sent.
    await waitFor(() => ship.stats().spoolRecords < 100, 5000, 'trim');
  });

  it('resends exactly the unacknowledged tail after a reconnect', async () => {
    // A collector that acknowledges up to seq 60 only: 61..100 "did not make it to its disk".
    const sink = await collector({ ack: false });
    const ship = transport({ collector: sink.url, replayWindowCount: 1_000_000 });
    const events = makeEvents(100);
    await waitFor(() => sink.sockets.size === 1);
    send(ship, events);
    await waitFor(() => sink.messages.length === 100);
    for (const socket of sink.sockets) socket.write(`ACK ${events[0].instance} 60\n`);
    await waitFor(() => ship.stats().acks === 1);
    sink.dropConnections();
    await waitFor(() => sink.connections === 2 && ship.stats().unsent === 0 && sink.messages.length >= 140);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.seqs().slice(100)).toEqual(range(61, 100));
    expect(ship.stats().replayed).toBe(40);
  });

  it('against a collector that never acknowledges, resends the last replayWindowCount events after a reconnect', async () => {
    const sink = await collector();
    const ship = transport({ collector: sink.url, replayWindowCount: 25, replayWindowMs: 60_000 });
    send(ship, makeEvents(100));
    await waitFor(() => sink.messages.length === 100);
    sink.dropConnections();
    await waitFor(() => sink.connections === 2 && sink.messages.length === 125);
    expect(sink.seqs().slice(100)).toEqual(range(76, 100));
    expect(ship.stats().replayed).toBe(25);
  });

  it('keeps events while the collector is down and delivers them all when it comes up', async () => {
    const port = await freePort();
    const ship = transport({ collector: `tcp://127.0.0.1:${port}` });
    send(ship, makeEvents(500));
    await waitFor(() => ship.stats().failedAttempts >= 3);
    expect(ship.stats()).toMatchObject({ appended: 500, sent: 0, unsent: 500, lost: 0 });
    const sink = await collector({}, port);
    await waitFor(() => sink.messages.length === 500);
    expect(sink.seqs()).toEqual(range(1, 500));
  });

  it('a new process with the same spool directory resends what the old one left, with the old instance and seq', async () => {
    const port = await freePort();
    const spoolDir = tempDir();
    cleanups.push(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const oldSource = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    const first = new SyslogTransport({ collector: `tcp://127.0.0.1:${port}`, spoolDir, closeTimeoutMs: 100 });
    send(first, makeEvents(20, oldSource));
    await first.close();
    const sink = await collector({}, port);
    const newSource = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    const second = transport({ collector: sink.url, spoolDir });
    send(second, makeEvents(5, newSource));
    await waitFor(() => sink.messages.length === 25);
    const instances = sink.messages.map((message) => sdParams(parseRfc5424(message), AUDIT_SD_ID)!.instance);
    expect(instances.slice(0, 20).every((instance) => instance === oldSource.instance)).toBe(true);
    expect(instances.slice(20).every((instance) => instance === newSource.instance)).toBe(true);
    expect(sink.seqs()).toEqual([...range(1, 20), ...range(1, 5)]);
  });

  it('honours backpressure: a collector that stops reading loses nothing and memory stays bounded', async () => {
    const sink = await collector({ paused: true });
    const ship = transport({ collector: sink.url });
    await waitFor(() => ship.stats().connected);
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    const padding = 'p'.repeat(2000);
    const count = 4000;
    for (let i = 0; i < count; i++) send(ship, [source.create(httpInput({ detail: { padding } }))]);
    await waitFor(() => ship.stats().appended === count);
    // Give the sender time to fill the socket: it must stop and leave the rest on disk.
    await waitFor(() => !ship.connection.writable, 10_000, 'backpressure');
    const stalled = ship.stats();
    expect(stalled.unsent).toBeGreaterThan(0);
    expect(ship.connection.bufferedBytes).toBeLessThan(2 * 1024 * 1024);
    sink.resume();
    await waitFor(() => sink.messages.length === count, 30_000, 'all events');
    expect(sink.seqs()).toEqual(range(1, count));
    expect(ship.stats()).toMatchObject({ lost: 0, unsent: 0 });
  });

  it('spool full: reports monitor disabled once with the loss, never throws, resumes when there is room', async () => {
    const port = await freePort();
    const ship = transport({ collector: `tcp://127.0.0.1:${port}`, spoolMaxBytes: 64 * 1024, replayWindowCount: 0 });
    const changes: MonitorChange[] = [];
    ship.on('monitor', (change: MonitorChange) => changes.push(change));
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    const padding = 'q'.repeat(1000);
    for (let i = 0; i < 200; i++) expect(() => send(ship, [source.create(httpInput({ detail: { padding } }))])).not.toThrow();
    await waitFor(() => changes.length === 1);
    expect(changes[0]).toMatchObject({ state: 'disabled', reason: 'spool_full', lost: 1 });
    const stats = ship.stats();
    expect(stats.lost).toBeGreaterThan(100);
    expect(stats.appended + stats.lost).toBe(200);
    // The report itself is a priority event: it fits in the reserve.
    send(ship, [source.create({ type: 'sys_monitor_disabled', outcome: 'failure', detail: { lost: 1 } })], true);
    expect(ship.stats().appended).toBe(stats.appended + 1);
    const sink = await collector({}, port);
    await waitFor(() => ship.stats().unsent === 0 && sink.messages.length === stats.appended + 1, 20_000, 'drain');
    await waitFor(() => {
      send(ship, [source.create(httpInput())]);
      return changes.length === 2;
    }, 20_000, 'resume');
    expect(changes[1]).toMatchObject({ state: 'enabled', reason: 'spool_full', lost: ship.stats().lost });
    // One contiguous gap: what arrived is 1..appended, then the priority report, then what came after.
    const seqs = sink.seqs();
    expect(seqs.slice(0, stats.appended)).toEqual(range(1, stats.appended));
  });

  it('an unwritable spool directory: monitor disabled, events still go out directly, log never throws', async () => {
    const sink = await collector();
    const parent = tempDir();
    cleanups.push(() => fs.rmSync(parent, { recursive: true, force: true }));
    const blocker = path.join(parent, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    const ship = transport({ collector: sink.url, spoolDir: path.join(blocker, 'spool') });
    const changes: MonitorChange[] = [];
    ship.on('monitor', (change: MonitorChange) => changes.push(change));
    await waitFor(() => ship.stats().connected);
    expect(() => send(ship, makeEvents(10))).not.toThrow();
    await waitFor(() => sink.messages.length === 10);
    expect(changes).toEqual([expect.objectContaining({ state: 'disabled', reason: 'spool_error' })]);
    expect(changes[0].error).toMatch(/ENOTDIR|EEXIST/);
    expect(ship.stats()).toMatchObject({ sentUnspooled: 10, lost: 0, monitorDisabled: true });
  });

  it('close() gives up within its timeout when the collector is gone, and keeps the rest for next time', async () => {
    const port = await freePort();
    const spoolDir = tempDir();
    cleanups.push(() => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const ship = new SyslogTransport({ collector: `tcp://127.0.0.1:${port}`, spoolDir, closeTimeoutMs: 200 });
    send(ship, makeEvents(10));
    await ship.close();
    expect(fs.existsSync(path.join(spoolDir, 'spool.lock'))).toBe(false);
    send(ship, makeEvents(1));
    expect(ship.stats().lost).toBe(1);
    const next = transport({ collector: `tcp://127.0.0.1:${port}`, spoolDir });
    expect(next.stats().unsent).toBe(10);
  });

  it('sends an event larger than maxMessageBytes without its detail, saying so, as one message', async () => {
    const sink = await collector();
    const ship = transport({ collector: sink.url, maxMessageBytes: 4096 });
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    const big = source.create(httpInput({ detail: { a: 'x'.repeat(3000), b: 'y'.repeat(3000) } }));
    send(ship, [big]);
    await waitFor(() => sink.messages.length === 1);
    expect(Buffer.byteLength(sink.messages[0])).toBeLessThanOrEqual(4096);
    const parsed = parseRfc5424(sink.messages[0]);
    const event = JSON.parse(parsed.msg!) as AuditEvent;
    expect(event.seq).toBe(big.seq);
    expect(event.detail).toEqual({ truncated: expect.stringMatching(/more than the collector takes \(4096\)/) });
  });

  it('without acknowledgements, trims sent segments once they leave the replay window', async () => {
    const sink = await collector();
    const ship = transport({ collector: sink.url, spoolSegmentBytes: 8192, replayWindowCount: 20 });
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    send(ship, Array.from({ length: 300 }, () => source.create(httpInput({ detail: { padding: 'z'.repeat(400) } }))));
    await waitFor(() => sink.messages.length === 300);
    // Kept: the window (20 events) plus at most two segments (~14 events each) around it.
    await waitFor(() => ship.stats().spoolRecords <= 20 + 2 * 14, 5000, 'trim');
    expect(ship.stats().spoolRecords).toBeGreaterThanOrEqual(20);
  });

  it('while the collector is down, keeps the replay window of before the loss, however long the outage', async () => {
    let clock = 1_000_000;
    const sink = await collector();
    const port = sink.port;
    const ship = transport({ collector: sink.url, spoolSegmentBytes: 8192, replayWindowMs: 1000, now: () => clock });
    const source = new EventSource({ app: 'a09-test', host: 'h', hmacKey: 'k' });
    for (let i = 0; i < 100; i++) {
      send(ship, [source.create(httpInput({ detail: { padding: 'z'.repeat(400) } }))]);
      clock += 5;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => sink.messages.length === 100);
    expect(ship.stats().spoolRecords).toBe(100);
    await sink.stop();
    await waitFor(() => !ship.stats().connected);
    // A long outage by the transport's clock: trimming runs meanwhile and must keep the window.
    clock += 60_000;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ship.stats().spoolRecords).toBe(100);
    const back = await collector({}, port);
    await waitFor(() => back.messages.length === 100, 10_000, 'replay');
    expect(back.seqs()).toEqual(range(1, 100));
  });
});
