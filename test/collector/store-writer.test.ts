import { GENESIS_HASH } from '../../src/collector/chain';
import { RowPacker } from '../../src/collector/packed-rows';
import { recordFromFrame } from '../../src/collector/parse';
import { packRecord } from '../../src/collector/rows';
import { BatchWriter, openStoreDatabase, type WriteBatch } from '../../src/collector/store-writer';
import { verifyChain } from '../../src/collector/verify';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.remove());

/** Batches as the store makes them: rows and their chain hashes, from `prev` (the head so far). */
let head: Buffer = GENESIS_HASH;
function batch(number: number, firstId: number, count: number, prev: Buffer = head): WriteBatch {
  const packer = new RowPacker(prev, undefined, 1, 16);
  for (let id = firstId; id < firstId + count; id++) {
    const record = recordFromFrame(Buffer.from(`<13>1 - h a - - - row ${id}`), { receivedAt: '2026-01-01T00:00:00.000Z', transport: 'tcp', peer: 'p', truncated: false });
    record.id = id;
    packRecord(packer, record, null);
  }
  head = packer.lastHash;
  return { batch: number, firstId, count, rows: packer.take(), prevHash: prev, newSources: [], sourceUpdates: [], newGaps: [], filledGaps: [] };
}

/** A batch packed to be chained by the writer (no chain key): empty prevHash. */
function unchained(number: number, firstId: number, count: number): WriteBatch {
  const packer = new RowPacker(GENESIS_HASH, undefined, 1, 16, true);
  for (let id = firstId; id < firstId + count; id++) {
    const record = recordFromFrame(Buffer.from(`<13>1 - h a - - - row ${id}`), { receivedAt: '2026-01-01T00:00:00.000Z', transport: 'tcp', peer: 'p', truncated: false });
    record.id = id;
    packRecord(packer, record, null);
  }
  return { batch: number, firstId, count, rows: packer.take(), prevHash: new Uint8Array(0), newSources: [], sourceUpdates: [], newGaps: [], filledGaps: [] };
}

beforeEach(() => {
  head = GENESIS_HASH;
});

function open(name: string): { writer: BatchWriter; path: string } {
  const path = dir.file(name);
  openStoreDatabase(path, 'NORMAL', 100).close();
  return { writer: new BatchWriter({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 }), path };
}

describe('BatchWriter', () => {
  it('commits several batches in one transaction and reports each one\'s last id', () => {
    const { writer, path } = open('merge.db');
    const results = writer.write([batch(1, 1, 3), batch(2, 4, 0), batch(3, 4, 2)]);
    expect(results.map((result) => [result.batch, result.lastId])).toEqual([
      [1, 3],
      [2, 3],
      [3, 5],
    ]);
    expect(results[0].head).not.toBe(results[2].head);
    expect(results[1].head).toBe(results[0].head);
    writer.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 5, head: { lastId: 5, lastHash: results[2].head } });
  });

  it('skips a batch it already committed (sent again after a restart) and refuses one out of sequence', () => {
    const { writer, path } = open('again.db');
    const first = batch(1, 1, 2);
    writer.write([first]);
    writer.close();
    const restarted = new BatchWriter({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
    expect(restarted.write([first, batch(2, 3, 1)]).map((result) => result.lastId)).toEqual([2, 3]);
    expect(() => restarted.write([batch(3, 9, 1)])).toThrow(/expected id 4, got 9/);
    // Rows that link to something other than the head are refused.
    expect(() => restarted.write([batch(4, 4, 1, GENESIS_HASH)])).toThrow(/does not continue the chain/);
    restarted.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 3 });
  });

  it('chains rows packed without hashes to its head, the same chain the store would compute, also when a batch is sent again', () => {
    const { writer, path } = open('unchained.db');
    const hashed = open('hashed.db');
    const expected = hashed.writer.write([batch(1, 1, 3), batch(2, 4, 2)]);
    hashed.writer.close();
    const first = unchained(1, 1, 3);
    expect(writer.write([first]).map((result) => result.head)).toEqual([expected[0].head]);
    writer.close();
    // After a restart the first batch is sent again (skipped) with the next one, which chains on.
    const restarted = new BatchWriter({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
    expect(restarted.write([first, unchained(2, 4, 2)]).map((result) => result.head)).toEqual(expected.map((result) => result.head));
    restarted.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 5, head: { lastId: 5, lastHash: expected[1].head } });
  });

  it('a batch chained by a writer whose commit failed is chained again, to the same hashes', () => {
    const { writer, path } = open('retry.db');
    writer.write([unchained(1, 1, 2)]);
    const blocker = openStoreDatabase(path, 'NORMAL', 100);
    blocker.exec('BEGIN IMMEDIATE');
    const second = unchained(2, 3, 2);
    expect(() => writer.write([second])).toThrow(/locked|busy/i);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(writer.write([second]).map((result) => result.lastId)).toEqual([4]);
    writer.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 4 });
  });

  it('notices another writer on the same file instead of forking the chain', () => {
    const path = dir.file('two.db');
    openStoreDatabase(path, 'NORMAL', 100).close();
    const one = new BatchWriter({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
    const two = new BatchWriter({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
    const shared = batch(1, 1, 1);
    one.write([shared]);
    expect(() => two.write([batch(1, 1, 1, GENESIS_HASH)])).toThrow(/another collector/);
    one.close();
    two.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 1 });
  });
});
