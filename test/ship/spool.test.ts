import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Spool, SpoolFullError, type SpoolPosition, type SpoolRecord } from '../../src/ship/spool';
import { SpoolLockedError } from '../../src/ship/spool-lock';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-spool-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const spools: Spool[] = [];
function open(dir: string, options: Partial<ConstructorParameters<typeof Spool>[0]> = {}): Spool {
  const spool = new Spool({ dir, ...options });
  spools.push(spool);
  return spool;
}
afterEach(async () => {
  await Promise.all(spools.splice(0).map((spool) => spool.close()));
});

function readAll(spool: Spool, from: SpoolPosition = spool.start, chunk?: number): SpoolRecord[] {
  const all: SpoolRecord[] = [];
  let position = from;
  for (;;) {
    const { records, next } = spool.read(position, chunk);
    if (records.length === 0) return all;
    all.push(...records);
    position = next;
  }
}

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.spool'))
    .sort();
}

const msg = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('Spool', () => {
  it('reads back what was appended, in order, with instance, seq and time, across segments', () => {
    let clock = 1_700_000_000_000;
    const spool = open(tempDir(), { segmentBytes: 4096, maxBytes: 1 << 20, now: () => clock++ });
    const appended = [];
    for (let seq = 1; seq <= 200; seq++) {
      appended.push(spool.append('inst-a', seq, msg(`event ${seq} ${'x'.repeat(seq % 97)} ünïcödé`)));
    }
    expect(spool.segmentCount).toBeGreaterThan(3);
    const records = readAll(spool, spool.start, 1000);
    expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(records[41].message.toString()).toBe(`event 42 ${'x'.repeat(42)} ünïcödé`);
    expect(records[0].instance).toBe('inst-a');
    expect(records[0].storedAt).toBe(1_700_000_000_000);
    expect(records.map((record) => record.start)).toEqual(appended.map((placed) => placed.start));
    expect(records.map((record) => record.end)).toEqual(appended.map((placed) => placed.end));
    expect(spool.records).toBe(200);
  });

  it('survives a restart: a new Spool on the same directory holds the same records', async () => {
    const dir = tempDir();
    const first = new Spool({ dir, segmentBytes: 4096 });
    for (let seq = 1; seq <= 50; seq++) first.append('old-instance', seq, msg(`m${seq}`));
    first.flush();
    await first.close();
    const second = open(dir, { segmentBytes: 4096 });
    expect(second.recovery.records).toBe(50);
    second.append('new-instance', 1, msg('after restart'));
    const records = readAll(second);
    expect(records).toHaveLength(51);
    expect(records[49]).toMatchObject({ instance: 'old-instance', seq: 50 });
    expect(records[50]).toMatchObject({ instance: 'new-instance', seq: 1 });
    expect(records[50].message.toString()).toBe('after restart');
  });

  it('deletes whole sealed segments before a position, never the active one', () => {
    const dir = tempDir();
    const spool = open(dir, { segmentBytes: 4096 });
    const placed = [];
    for (let seq = 1; seq <= 100; seq++) placed.push(spool.append('i', seq, msg('y'.repeat(200))));
    spool.flush();
    const before = segmentFiles(dir).length;
    expect(before).toBeGreaterThan(3);
    const removed = spool.trimBefore(placed[49].end);
    expect(removed).toBeGreaterThan(0);
    expect(segmentFiles(dir).length).toBeLessThan(before);
    const left = readAll(spool);
    // Whole segments go: the first record kept is at or before seq 51, and everything after it stays.
    expect(left[0].seq).toBeLessThanOrEqual(51);
    expect(left[left.length - 1].seq).toBe(100);
    expect(left.length).toBe(100 - removed);
    spool.trimBefore(spool.end);
    expect(segmentFiles(dir)).toHaveLength(1);
  });

  it('refuses records beyond maxBytes, lets priority records use the reserve', () => {
    const spool = open(tempDir(), { maxBytes: 16 * 1024, segmentBytes: 4096, reserveBytes: 2048 });
    let stored = 0;
    expect(() => {
      for (;;) {
        spool.append('i', stored + 1, msg('z'.repeat(500)));
        stored++;
      }
    }).toThrow(SpoolFullError);
    expect(spool.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(stored).toBeGreaterThan(20);
    const report = msg(`spool full: events lost ${'.'.repeat(500)}`);
    expect(() => spool.append('i', stored + 1, report)).toThrow(SpoolFullError);
    spool.append('i', stored + 1, report, true);
    expect(spool.bytes).toBeGreaterThan(16 * 1024);
    expect(readAll(spool)).toHaveLength(stored + 1);
  });

  it('cuts a torn tail (crash in mid-write) and keeps every whole record', async () => {
    const dir = tempDir();
    const first = new Spool({ dir });
    for (let seq = 1; seq <= 10; seq++) first.append('i', seq, msg(`record ${seq}`));
    await first.close();
    const [file] = segmentFiles(dir);
    const full = fs.readFileSync(path.join(dir, file));
    fs.writeFileSync(path.join(dir, file), full.subarray(0, full.length - 5));
    const second = open(dir);
    expect(second.recovery.truncatedBytes).toBeGreaterThan(0);
    expect(second.recovery.corruptSegments).toBe(0);
    expect(readAll(second).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    second.append('i', 11, msg('appended after the repair'));
    expect(readAll(second).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]);
  });

  it('drops a corrupted record in the middle of a segment and keeps the records after it', async () => {
    const dir = tempDir();
    const first = new Spool({ dir });
    for (let seq = 1; seq <= 10; seq++) first.append('i', seq, msg(`record number ${seq}`));
    await first.close();
    const [file] = segmentFiles(dir);
    const bytes = fs.readFileSync(path.join(dir, file));
    const where = bytes.indexOf('record number 4');
    bytes[where + 3] ^= 0x01;
    fs.writeFileSync(path.join(dir, file), bytes);
    const second = open(dir);
    expect(second.recovery.corruptSegments).toBe(1);
    expect(readAll(second).map((record) => record.seq)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    // The repair is on disk: a third open finds nothing to repair.
    await second.close();
    const third = open(dir);
    expect(third.recovery.corruptSegments).toBe(0);
    expect(third.recovery.records).toBe(9);
  });

  it('recovers from a garbage length field and from a segment that is all garbage', async () => {
    const dir = tempDir();
    const first = new Spool({ dir, segmentBytes: 4096 });
    for (let seq = 1; seq <= 40; seq++) first.append('i', seq, msg('w'.repeat(300)));
    await first.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const second = fs.readFileSync(path.join(dir, files[1]));
    second.writeUInt32BE(0x00ffffff, 0);
    fs.writeFileSync(path.join(dir, files[1]), second);
    fs.writeFileSync(path.join(dir, files[0]), Buffer.alloc(1000, 0xab));
    const spool = open(dir, { segmentBytes: 4096 });
    const seqs = readAll(spool).map((record) => record.seq);
    // The garbage segment is gone, the first record of the damaged one is gone, the rest is there.
    expect(seqs.length).toBeGreaterThan(20);
    expect(seqs[seqs.length - 1]).toBe(40);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(segmentFiles(dir)).not.toContain(files[0]);
  });

  it('finds positions by ordinal and by predicate', () => {
    const spool = open(tempDir(), { segmentBytes: 4096 });
    const placed = [];
    for (let seq = 1; seq <= 60; seq++) placed.push(spool.append(seq < 30 ? 'a' : 'b', seq, msg('v'.repeat(150))));
    expect(spool.positionOf(17)).toEqual(placed[17].start);
    expect(spool.positionOf(-5)).toEqual(spool.start);
    expect(spool.positionOf(1000)).toEqual(spool.end);
    expect(spool.find((record) => record.instance === 'b')).toEqual(placed[29].start);
    expect(spool.find(() => false)).toEqual(spool.end);
  });

  it('refuses a second owner of the directory and takes over a lock left by a dead process', async () => {
    const dir = tempDir();
    const first = open(dir);
    expect(() => new Spool({ dir })).toThrow(SpoolLockedError);
    await first.close();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(path.join(dir, 'spool.lock'), `${dead}\n`);
    const second = open(dir);
    expect(fs.readFileSync(path.join(dir, 'spool.lock'), 'utf8').trim()).toBe(String(process.pid));
    await second.close();
    expect(fs.existsSync(path.join(dir, 'spool.lock'))).toBe(false);
  });

  it('syncs to disk without blocking and can be closed twice', async () => {
    const spool = open(tempDir());
    spool.append('i', 1, msg('x'));
    spool.flush();
    await spool.sync();
    await spool.close();
    await spool.close();
    expect(() => spool.append('i', 2, msg('y'))).toThrow(/closed/);
  });

  it('property: any sequence of messages and segment size reads back exactly, before and after a reopen', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: 1, max: 2 ** 40 })), { maxLength: 60 }),
        fc.integer({ min: 4096, max: 16384 }),
        fc.integer({ min: 16, max: 5000 }),
        async (items, segmentBytes, chunk) => {
          const dir = tempDir();
          const spool = new Spool({ dir, segmentBytes, maxBytes: 1 << 22 });
          items.forEach(([text, seq], i) => {
            spool.append(`inst-${i % 3}`, seq, Buffer.from(text, 'utf8'));
            if (i % 7 === 0) spool.flush();
          });
          const expected = items.map(([text, seq], i) => ({ instance: `inst-${i % 3}`, seq, message: Buffer.from(text, 'utf8').toString('hex') }));
          const view = (records: SpoolRecord[]) => records.map((r) => ({ instance: r.instance, seq: r.seq, message: r.message.toString('hex') }));
          expect(view(readAll(spool, spool.start, chunk))).toEqual(expected);
          await spool.close();
          const reopened = new Spool({ dir, segmentBytes, maxBytes: 1 << 22 });
          try {
            expect(view(readAll(reopened))).toEqual(expected);
          } finally {
            await reopened.close();
            fs.rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
