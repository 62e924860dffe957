import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { AuditEvent } from '../../src/events';
import { createAuditLogger } from '../../src/ship/audit-logger';
import { ShippingThread } from '../../src/ship/ship-thread';
import { httpInput, makeEvents, tempDir, waitFor } from './helpers';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = tempDir('a09-ship-thread-');
  dirs.push(dir);
  return dir;
}

function readEvents(file: string): AuditEvent[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEvent);
}

describe('the shipping thread', () => {
  it('ships every event in order, sanitized, and close() returns the final counts', async () => {
    const dir = scratch();
    const file = path.join(dir, 'events.jsonl');
    const logger = createAuditLogger({ file, spoolDir: path.join(dir, 'spool'), heartbeatMs: 0, lifecycle: false, hmacKey: 'k' });
    for (let i = 0; i < 2000; i++) logger.emit(httpInput({ reason: `line ${i}\nforged`, where: { method: 'GET', url: `/x?password=p${i}`, requestId: `r${i}` } }));
    await logger.close();
    const events = readEvents(file);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(events[7].reason).toBe('line 7\\nforged');
    expect(events[7].where.url).toBe('/x?password=[REDACTED]');
    expect(logger.stats()).toMatchObject({ emitted: 2000, failures: 0, file: { written: 2000, lost: 0 } });
  });

  it('takes values structured cloning refuses (a function, a symbol, a bigint from a JavaScript caller) without throwing', async () => {
    const dir = scratch();
    const file = path.join(dir, 'events.jsonl');
    const logger = createAuditLogger({ file, spoolDir: path.join(dir, 'spool'), heartbeatMs: 0, lifecycle: false, hmacKey: 'k' });
    const odd = { callback: () => 1, tag: Symbol('x'), big: 10n, token: 'Bearer abc.def.ghi' } as unknown as Record<string, string>;
    expect(() => logger.emit(httpInput({ detail: odd }))).not.toThrow();
    logger.emit(httpInput({ reason: 'after' }));
    await logger.close();
    const events = readEvents(file);
    expect(events.map((event) => event.seq)).toEqual([1, 2]);
    expect(JSON.stringify(events[0].detail)).not.toContain('abc.def.ghi');
    expect(events[1].reason).toBe('after');
    expect(logger.stats().failures).toBe(0);
  });

  it('restarts a thread that died and hands it again what it had not taken: nothing is lost', async () => {
    const dir = scratch();
    const file = path.join(dir, 'events.jsonl');
    const warnings: string[] = [];
    const thread = new ShippingThread(
      { file, spoolDir: path.join(dir, 'spool') },
      { monitor: () => undefined, failed: () => undefined, warn: (line) => warnings.push(line) },
    );
    const events = makeEvents(30);
    for (const event of events.slice(0, 10)) thread.post(event, false);
    await waitFor(() => thread.pending === 0);
    // Fault injection: a message the thread's handler cannot read throws there and ends the thread.
    (thread as unknown as { worker: Worker }).worker.postMessage({ type: 'batch', id: -1, events: null, priority: [], sanitized: [] });
    for (const event of events.slice(10)) thread.post(event, false);
    await waitFor(() => warnings.some((line) => /exited/.test(line)));
    await waitFor(() => thread.pending === 0, 15_000, 'the restarted thread to take the batch');
    const stats = await thread.close();
    // The dead thread's 10 and the restarted one's 20 (the ones the dead one never took).
    expect(stats.file).toMatchObject({ written: 30, lost: 0 });
    expect(thread.stats().file).toMatchObject({ written: 30 });
    expect(readEvents(file).map((event) => event.seq)).toEqual(events.map((event) => event.seq));
  });

  it('drops events beyond its backlog, says so as sys_monitor_disabled, and sys_monitor_enabled when it caught up', async () => {
    const dir = scratch();
    const file = path.join(dir, 'events.jsonl');
    const logger = createAuditLogger({ file, spoolDir: path.join(dir, 'spool'), heartbeatMs: 0, lifecycle: false, hmacKey: 'k', maxThreadBacklog: 5 });
    // All in one turn: the thread cannot have taken any yet.
    const returned = Array.from({ length: 20 }, (_, i) => logger.emit(httpInput({ reason: `burst ${i}` })));
    expect(returned.filter((event) => event !== undefined)).toHaveLength(5);
    await waitFor(() => logger.stats().failures === 15);
    await new Promise((resolve) => setTimeout(resolve, 100));
    logger.emit(httpInput({ reason: 'later' }));
    await logger.close();
    const events = readEvents(file);
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'http_request')).toHaveLength(6);
    const disabled = events.find((event) => event.type === 'sys_monitor_disabled');
    expect(disabled?.detail).toMatchObject({ reason: 'thread_backlog' });
    const enabled = events.find((event) => event.type === 'sys_monitor_enabled');
    expect(enabled?.detail).toMatchObject({ reason: 'thread_backlog', lost: 15 });
    expect(events.map((event) => event.seq)).toEqual([...events.map((event) => event.seq)].sort((a, b) => a - b));
  });

  it('ends a thread that does not answer close() in time, counting what it had not spooled', async () => {
    const dir = scratch();
    const warnings: string[] = [];
    const failures: number[] = [];
    const thread = new ShippingThread(
      { file: path.join(dir, 'events.jsonl'), spoolDir: path.join(dir, 'spool') },
      { monitor: () => undefined, failed: (count) => failures.push(count), warn: (line) => warnings.push(line) },
      { closeTimeoutMs: 500 },
    );
    // Fault injection: a batch whose length never ends keeps the thread busy (each missing event fails).
    (thread as unknown as { worker: Worker }).worker.postMessage({ type: 'batch', id: -1, events: { length: 1e12 }, priority: [], sanitized: [] });
    for (const event of makeEvents(3)) thread.post(event, false);
    await thread.close();
    expect(warnings.join('\n')).toMatch(/did not close within 500 ms; ended it \(3 events not spooled\)/);
    expect(failures).toEqual([3]);
    expect(thread.pending).toBe(0);
  });

  it('refuses a collector URL it cannot use at once, not in the thread', () => {
    expect(() => createAuditLogger({ collector: 'gopher://127.0.0.1:70', spoolDir: scratch(), heartbeatMs: 0, lifecycle: false })).toThrow(/tcp|tls|udp/);
  });

  it('refuses, with a clear error, options that cannot reach the thread', () => {
    const dir = scratch();
    expect(() =>
      createAuditLogger({ file: path.join(dir, 'e.jsonl'), spoolDir: dir, transport: { now: () => Date.now() }, heartbeatMs: 0, lifecycle: false }),
    ).toThrow(/with thread: true, .* must be plain data/);
    const inline = createAuditLogger({ file: path.join(dir, 'e.jsonl'), spoolDir: dir, transport: { now: () => Date.now() }, heartbeatMs: 0, lifecycle: false, thread: false });
    return inline.close();
  });
});
