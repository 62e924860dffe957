import Database from 'better-sqlite3';
import type { CollectedRecord, SequenceGap } from '../../src/collector/record';
import { parseFrame, recordFromFrame, type FrameOrigin } from '../../src/collector/parse';
import { CollectorStore, type StoreOptions } from '../../src/collector/store';
import { verifyChain } from '../../src/collector/verify';
import type { AuditEvent } from '../../src/events';
import { format5424, loginFail, newSource, request, tempDir, waitFor } from './helpers';

const dirs: Array<{ remove: () => void }> = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

function dbPath(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.file('collector.db');
}

let clock = Date.parse('2026-03-01T10:00:00.000Z');
function receivedAt(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

const origin: FrameOrigin = { receivedAt: '2026-03-01T09:00:00.000Z', transport: 'tcp', peer: '127.0.0.1:999', truncated: false };

function eventRecord(event: AuditEvent, peer = '127.0.0.1:1000'): CollectedRecord {
  return recordFromFrame(Buffer.from(format5424(event)), { receivedAt: receivedAt(), transport: 'tcp', peer, truncated: false });
}

function rawRecord(text: string): CollectedRecord {
  return recordFromFrame(Buffer.from(text), { receivedAt: receivedAt(), transport: 'udp', peer: '127.0.0.2:514', truncated: false });
}

interface Seen {
  records: CollectedRecord[];
  gaps: SequenceGap[];
  filled: SequenceGap[];
  order: string[];
}

let writer: 'thread' | 'inline' = 'thread';

function open(path: string, options: Partial<StoreOptions> = {}): { store: CollectorStore; seen: Seen } {
  const store = new CollectorStore({ path, batchDelayMs: 5, writer, ...options });
  const seen: Seen = { records: [], gaps: [], filled: [], order: [] };
  store.subscribe({
    onRecord: (record) => {
      seen.records.push(record);
      seen.order.push(`record ${record.event?.seq ?? record.id}`);
    },
    onGap: (gap) => {
      seen.gaps.push(gap);
      seen.order.push(`gap ${gap.from}-${gap.to}`);
    },
    onGapFilled: (gap) => {
      seen.filled.push(gap);
      seen.order.push(`filled ${gap.from}-${gap.to}`);
    },
  });
  return { store, seen };
}

describe.each(['thread', 'inline'] as const)('CollectorStore (%s writer)', (mode) => {
  beforeAll(() => {
    writer = mode;
  });

  it('hands each taken record to onIntake at once (id set, before its commit; duplicates not), the rules\' fields for our events', async () => {
    const path = dbPath();
    const { store, seen } = open(path, { batchSize: 1000, batchDelayMs: 20 });
    const intake: CollectedRecord[] = [];
    const committed: number[] = [];
    store.subscribe({ onIntake: (record) => intake.push(record), onCommit: (commit) => committed.push(commit.lastId) });
    const source = newSource();
    const event = loginFail(source);
    const data = Buffer.from(format5424(event));
    expect(store.add(parseFrame(data, { ...origin }))).toBe('stored');
    expect(intake).toHaveLength(1);
    expect(intake[0]).toEqual({
      id: 1,
      receivedAt: origin.receivedAt,
      transport: 'tcp',
      peer: origin.peer,
      format: 'rfc5424',
      facility: 13,
      severity: event.severity,
      message: expect.stringContaining('"authn_login_fail"'),
      event: expect.objectContaining({ type: 'authn_login_fail', seq: event.seq }),
    });
    expect(store.add(parseFrame(data, { ...origin }))).toBe('duplicate');
    const raw = rawRecord('not ours');
    expect(store.add(raw)).toBe('stored');
    expect(intake.map((record) => record.id)).toEqual([1, 2]);
    expect(intake[1]).toBe(raw);
    expect(seen.records).toEqual([]);
    expect(committed).toEqual([]);
    await store.settled();
    expect(committed[committed.length - 1]).toBe(2);
    expect(seen.records.map((record) => record.id)).toEqual([1, 2]);
    expect(seen.records[0].host).toBe(event.host);
    await store.close();
  });

  it('hands records to listeners only after the batch commits, ids set, in order', async () => {
    const path = dbPath();
    const { store, seen } = open(path, { batchSize: 1000, batchDelayMs: 20 });
    const source = newSource();
    const first = eventRecord(loginFail(source));
    expect(store.add(first)).toBe('stored');
    expect(store.add(rawRecord('plain text'))).toBe('stored');
    expect(seen.records).toEqual([]);
    // Not yet committed: a second connection sees nothing.
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(0);
    await store.settled();
    expect(seen.records.map((record) => record.id)).toEqual([1, 2]);
    expect(reader.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(2);
    reader.close();
    expect(seen.records[0].event).toEqual(first.event);
    expect(store.events({ order: 'asc' })).toEqual(seen.records);
    await store.close();
  });

  it('gives listeners and queries the record as it was parsed, from a frame or a record, SD included', async () => {
    const { store, seen } = open(dbPath());
    const source = newSource();
    const wire = Buffer.from(format5424(loginFail(source)));
    const other = Buffer.from('<13>1 2026-01-01T00:00:00Z h app 1 m [x@1 v="é\\"q"] grüße');
    const expected = [recordFromFrame(wire, origin), recordFromFrame(other, origin)];
    store.add(parseFrame(wire, origin));
    store.add(parseFrame(other, origin));
    await store.settled();
    expected.forEach((record, index) => (record.id = index + 1));
    expect(seen.records).toEqual(expected);
    expect(store.events({ order: 'asc' })).toEqual(expected);
    const [live] = seen.records;
    expect(live.sd?.['a09@32473'].instance).toBe(source.instance);
    // SD is an own enumerable property like any other: spread and JSON carry it, and it can be replaced.
    expect({ ...seen.records[1] }.sd).toEqual({ 'x@1': { v: 'é"q' } });
    expect(JSON.parse(JSON.stringify(store.event(2))).sd).toEqual({ 'x@1': { v: 'é"q' } });
    const replaced = store.event(2)!;
    replaced.sd = { y: {} };
    expect(replaced.sd).toEqual({ y: {} });
    await store.close();
  });

  it('commits without waiting for the timer when a batch is full', async () => {
    const { store, seen } = open(dbPath(), { batchSize: 3, batchDelayMs: 60_000 });
    const source = newSource();
    store.add(eventRecord(loginFail(source)));
    store.add(eventRecord(loginFail(source)));
    expect(seen.records).toHaveLength(0);
    store.add(eventRecord(loginFail(source)));
    await waitFor(() => seen.records.length === 3, 'the full batch');
    expect(seen.records.map((record) => record.id)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('drops duplicates from an at-least-once sender and counts them per source', async () => {
    const { store, seen } = open(dbPath());
    const source = newSource();
    const events = [loginFail(source), loginFail(source), loginFail(source)];
    for (const event of events) expect(store.add(eventRecord(event))).toBe('stored');
    // A replay of everything, plus one new.
    for (const event of events) expect(store.add(eventRecord(event))).toBe('duplicate');
    expect(store.add(eventRecord(loginFail(source)))).toBe('stored');
    await store.flush();
    expect(seen.records.map((record) => record.event?.seq)).toEqual([1, 2, 3, 4]);
    expect(store.sources()).toEqual([
      expect.objectContaining({ host: 'shop-1', instance: source.instance, app: 'juice-shop', lastSeq: 4, contiguousSeq: 4, events: 4, duplicates: 3, gaps: 0, openGaps: 0 }),
    ]);
    expect(store.contiguousSeq('shop-1', source.instance)).toBe(4);
    await store.close();
  });

  it('records a gap, reports it before the record that revealed it, and marks it filled by a replay', async () => {
    const { store, seen } = open(dbPath());
    const source = newSource();
    const events = Array.from({ length: 6 }, () => loginFail(source));
    for (const index of [0, 1, 5]) store.add(eventRecord(events[index]));
    await store.flush();
    expect(seen.order).toEqual(['record 1', 'record 2', 'gap 3-5', 'record 6']);
    expect(seen.gaps).toEqual([{ host: 'shop-1', instance: source.instance, app: 'juice-shop', from: 3, to: 5, detectedAt: expect.any(String) }]);
    expect(store.contiguousSeq('shop-1', source.instance)).toBe(2);
    expect(store.gaps({ open: true })).toEqual([expect.objectContaining({ from: 3, to: 5, instance: source.instance })]);
    expect(store.sources()[0]).toMatchObject({ lastSeq: 6, contiguousSeq: 2, gaps: 1, openGaps: 1 });

    for (const index of [3, 2]) store.add(eventRecord(events[index]));
    await store.flush();
    expect(seen.filled).toEqual([]);
    expect(store.contiguousSeq('shop-1', source.instance)).toBe(4);
    store.add(eventRecord(events[4]));
    await store.flush();
    expect(seen.order.slice(4)).toEqual(['record 4', 'record 3', 'record 5', 'filled 3-5']);
    expect(seen.filled[0]).toMatchObject({ from: 3, to: 5, filledAt: expect.any(String) });
    expect(store.gaps({ open: true })).toEqual([]);
    expect(store.gaps({ open: false })).toEqual([expect.objectContaining({ from: 3, to: 5, filledAt: expect.any(String) })]);
    expect(store.sources()[0]).toMatchObject({ lastSeq: 6, contiguousSeq: 6, gaps: 1, openGaps: 0 });
    await store.close();
  });

  it('keeps sequence state, gaps half filled and the chain across a restart', async () => {
    const path = dbPath();
    const source = newSource();
    const events = Array.from({ length: 8 }, () => loginFail(source));
    const first = open(path);
    for (const index of [0, 1, 6, 3]) first.store.add(eventRecord(events[index]));
    await first.store.close();

    const second = open(path, { maxCachedSources: 1 });
    expect(second.store.add(eventRecord(events[3]))).toBe('duplicate');
    expect(second.store.add(eventRecord(events[6]))).toBe('duplicate');
    expect(second.store.add(eventRecord(events[1]))).toBe('duplicate');
    for (const index of [2, 4, 5, 7]) expect(second.store.add(eventRecord(events[index]))).toBe('stored');
    await second.store.flush();
    expect(second.seen.filled).toEqual([expect.objectContaining({ from: 3, to: 6 })]);
    expect(second.store.contiguousSeq('shop-1', source.instance)).toBe(8);
    expect(second.seen.records.map((record) => record.id)).toEqual([5, 6, 7, 8]);
    await second.store.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 8 });
  });

  it('tracks sources by host and instance separately', async () => {
    const { store } = open(dbPath());
    const a = newSource({ host: 'shop-1' });
    const b = newSource({ host: 'shop-2', instance: a.instance });
    store.add(eventRecord(loginFail(a)));
    store.add(eventRecord(loginFail(b)));
    await store.flush();
    expect(store.sources().map((source) => [source.host, source.lastSeq]).sort()).toEqual([
      ['shop-1', 1],
      ['shop-2', 1],
    ]);
    await store.close();
  });

  it('answers queries: type, source, actor, ip, severity, time range, text, paging', async () => {
    const { store } = open(dbPath());
    const shop = newSource({ host: 'shop-1' });
    const other = newSource({ host: 'shop-2' });
    const fail = loginFail(shop, { who: { ip: '10.9.9.9', userId: '7' } });
    const ok = shop.create({ type: 'authn_login_success', outcome: 'success', email: 'admin@juice-sh.op', ...request });
    const beat = other.create({ type: 'sys_heartbeat', outcome: 'info', description: 'alive 100%_done' });
    const records = [eventRecord(fail), eventRecord(ok), eventRecord(beat), rawRecord('<34>Oct 11 22:14:15 gw sshd[1]: Failed password for root')];
    for (const record of records) store.add(record);
    await store.flush();
    const ids = (list: CollectedRecord[]): number[] => list.map((record) => record.id);
    expect(ids(store.events())).toEqual([4, 3, 2, 1]);
    expect(ids(store.events({ type: 'authn_login_fail' }))).toEqual([1]);
    expect(ids(store.events({ type: ['authn_login_fail', 'sys_heartbeat'] }))).toEqual([3, 1]);
    expect(ids(store.events({ type: [] }))).toEqual([]);
    expect(ids(store.events({ host: 'shop-2' }))).toEqual([3]);
    expect(ids(store.events({ host: 'gw' }))).toEqual([4]);
    expect(ids(store.events({ instance: shop.instance }))).toEqual([2, 1]);
    expect(ids(store.events({ userId: '7' }))).toEqual([1]);
    expect(ids(store.events({ emailId: ok.who.emailId }))).toEqual([2]);
    expect(ids(store.events({ ip: '10.9.9.9' }))).toEqual([1]);
    expect(ids(store.events({ format: 'rfc3164' }))).toEqual([4]);
    expect(ids(store.events({ maxSeverity: 4 }))).toEqual([4, 1]);
    expect(ids(store.events({ since: records[1].receivedAt, until: records[3].receivedAt }))).toEqual([3, 2]);
    expect(ids(store.events({ text: 'FAILED PASSWORD' }))).toEqual([4]);
    expect(ids(store.events({ text: '100%_' }))).toEqual([3]);
    expect(ids(store.events({ text: '%' }))).toEqual([3]);
    expect(ids(store.events({ afterId: 1, limit: 2 }))).toEqual([2, 3]);
    expect(ids(store.events({ beforeId: 4, limit: 2 }))).toEqual([3, 2]);
    expect(ids(store.events({ type: 'authn_login_fail', host: 'shop-2' }))).toEqual([]);
    expect(store.event(2)?.event).toEqual(ok);
    expect(store.event(99)).toBeUndefined();
    expect(store.health()).toMatchObject({ lastId: 4, sources: 2, openGaps: 0, pending: 0, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await store.close();
  });

  it('refuses UPDATE and DELETE of events through SQL', async () => {
    const path = dbPath();
    const { store } = open(path);
    store.add(rawRecord('x'));
    await store.flush();
    const other = new Database(path);
    expect(() => other.prepare("UPDATE events SET content = 'y'").run()).toThrow(/append-only/);
    expect(() => other.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    other.close();
    await store.close();
  });

  it('survives a commit that fails (a lock held elsewhere) and retries without losing or repeating records', async () => {
    const path = dbPath();
    const errors: Error[] = [];
    const { store, seen } = open(path, { busyTimeoutMs: 20, onError: (error) => errors.push(error) });
    store.add(rawRecord('before'));
    await store.flush();
    const locker = new Database(path);
    locker.prepare('BEGIN IMMEDIATE').run();
    store.add(rawRecord('during'));
    const flushed = store.flush();
    await waitFor(() => errors.length > 0, 'a failed commit');
    expect(errors[0].message).toMatch(/locked|busy/i);
    expect(store.health()).toMatchObject({ failing: true, pending: 1, lastError: expect.stringMatching(/locked|busy/i) });
    store.add(rawRecord('after'));
    expect(seen.records.map((record) => record.message)).toEqual(['before']);
    locker.prepare('ROLLBACK').run();
    locker.close();
    await flushed;
    await store.flush();
    expect(seen.records.map((record) => record.message)).toEqual(['before', 'during', 'after']);
    expect(store.health()).toMatchObject({ failing: false, pending: 0, lastId: 3 });
    await store.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 3 });
  });

  it('keeps going when a listener throws', async () => {
    const errors: Error[] = [];
    const { store, seen } = open(dbPath(), { onError: (error) => errors.push(error) });
    store.subscribe({
      onRecord: () => {
        throw new Error('listener bug');
      },
    });
    store.add(rawRecord('a'));
    store.add(rawRecord('b'));
    await store.flush();
    expect(seen.records).toHaveLength(2);
    expect(errors.map((error) => error.message)).toEqual(['listener bug', 'listener bug']);
    await store.close();
  });
});
