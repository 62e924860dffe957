import fc from 'fast-check';
import { EVENT_COLUMNS, GENESIS_HASH, QUERY_COLUMNS, QUERY_COLUMN_INDEXES, canonicalContent, chainHash, decodeContent, type ColumnValue } from '../../src/collector/chain';
import { RowPacker, RowReader, type PackedRows } from '../../src/collector/packed-rows';
import { wellFormed } from '../../src/collector/rows';

const COLUMNS = EVENT_COLUMNS.length;

/** Any UTF-16 text, lone surrogates included (they are stored as U+FFFD). */
const anyText = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 }).map((codes) => String.fromCharCode(...codes));
const text = fc.oneof(fc.string({ maxLength: 60 }), anyText, fc.string({ unit: 'grapheme', maxLength: 30 }));
// Values that repeat from row to row (the reader reuses the previous row's string when the bytes match).
const repeated = fc.constantFrom('tcp', 'rfc5424', 'shop-1', 'é', 'ab', 'abc', '');
const value: fc.Arbitrary<ColumnValue> = fc.oneof(fc.constant(null), fc.maxSafeInteger(), text, repeated, repeated);
const row = fc.array(value, { minLength: COLUMNS, maxLength: COLUMNS });

function pack(packer: RowPacker, values: ColumnValue[]): Buffer | undefined {
  packer.beginRow();
  for (const item of values) {
    if (typeof item === 'number') packer.integer(item);
    else packer.string(item);
  }
  return packer.endRow();
}

function readAll(rows: PackedRows): Array<{ values: ColumnValue[]; hash: Buffer }> {
  const reader = new RowReader(rows);
  const out: Array<{ values: ColumnValue[]; hash: Buffer }> = [];
  const values = new Array<ColumnValue>(COLUMNS);
  while (reader.next(values)) out.push({ values: [...values], hash: Buffer.from(reader.hash()) });
  return out;
}

const stored = (values: ColumnValue[]): ColumnValue[] => values.map((item) => (typeof item === 'string' ? wellFormed(item) : item));

describe('packed rows', () => {
  it('property: each row hashes as chainHash(prev, canonicalContent(row)) and reads back as stored, across batches and growth', () => {
    fc.assert(
      fc.property(fc.array(fc.array(row, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), (batches, key) => {
        // Tiny capacities: every batch grows its buffers several times.
        const packer = new RowPacker(GENESIS_HASH, key, 1, 8);
        let prev: Buffer = GENESIS_HASH;
        for (const batch of batches) {
          const hashes = batch.map((values) => pack(packer, values));
          expect(packer.count).toBe(batch.length);
          const read = readAll(packer.take());
          expect(packer.count).toBe(0);
          expect(read.map((item) => item.values)).toEqual(batch.map(stored));
          batch.forEach((values, index) => {
            const expected = chainHash(prev, canonicalContent(stored(values)), key);
            expect(hashes[index]).toEqual(expected);
            expect(read[index].hash).toEqual(expected);
            prev = expected;
          });
          expect(packer.lastHash).toEqual(prev);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: rows packed to be chained later, chained by a reader in order, get the hashes the packer gives them', () => {
    fc.assert(
      fc.property(fc.array(fc.array(row, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), (batches) => {
        const hashing = new RowPacker(GENESIS_HASH, undefined, 1, 8);
        const later = new RowPacker(GENESIS_HASH, undefined, 1, 8, true);
        let prev: Buffer = GENESIS_HASH;
        for (const batch of batches) {
          const expected = batch.map((values) => pack(hashing, values));
          for (const values of batch) expect(pack(later, values)).toBeUndefined();
          const reference = hashing.take();
          const rows = later.take();
          const chainAll = (head: Buffer): Buffer[] => {
            const reader = new RowReader(rows);
            const values = new Array<ColumnValue>(COLUMNS);
            const chained: Buffer[] = [];
            while (reader.next(values)) {
              expect(values).toEqual(stored(batch[chained.length]));
              head = Buffer.from(reader.chainRow(head));
              chained.push(head);
            }
            return chained;
          };
          const chained = chainAll(prev);
          expect(chained).toEqual(expected);
          // Chained in place: the rows are now byte for byte the ones the hashing packer wrote.
          expect(Buffer.from(rows.bytes)).toEqual(Buffer.from(reference.bytes));
          expect(Buffer.from(rows.hashes)).toEqual(Buffer.from(reference.hashes));
          // Chained again from the same head (a batch sent again to a restarted writer): the same hashes.
          expect(chainAll(prev)).toEqual(expected);
          if (chained.length > 0) prev = chained[chained.length - 1];
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: a row read for insert gives the id, the query columns and the content bytes, chained as when read whole', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 6 }), (batch) => {
        const whole = new RowPacker(GENESIS_HASH, undefined, 1, 8, true);
        const forInsert = new RowPacker(GENESIS_HASH, undefined, 1, 8, true);
        for (const values of batch) {
          pack(whole, values);
          pack(forInsert, values);
        }
        const wholeReader = new RowReader(whole.take());
        const insertReader = new RowReader(forInsert.take());
        const all = new Array<ColumnValue>(COLUMNS);
        const inserted = new Array<ColumnValue | Uint8Array>(QUERY_COLUMNS.length + 2);
        let prevWhole: Buffer = GENESIS_HASH;
        let prevInsert: Buffer = GENESIS_HASH;
        for (let index = 0; index < batch.length; index++) {
          expect(wholeReader.next(all)).toBe(true);
          expect(insertReader.nextForInsert(inserted)).toBe(true);
          const expected = stored(batch[index]);
          expect(inserted.slice(0, QUERY_COLUMNS.length + 1)).toEqual([expected[0], ...QUERY_COLUMN_INDEXES.map((at) => expected[at])]);
          // The content as SQLite stores it (the bytes cast to TEXT) decodes to the whole row.
          const content = Buffer.from(inserted[QUERY_COLUMNS.length + 1] as Uint8Array).toString('utf8');
          expect(content).toBe(canonicalContent(expected));
          expect(decodeContent(content)).toEqual(expected);
          const chainedOn = prevInsert;
          prevWhole = Buffer.from(wholeReader.chainRow(prevWhole));
          prevInsert = Buffer.from(insertReader.chainRow(prevInsert));
          expect(prevInsert).toEqual(prevWhole);
          // What verify recomputes from the stored row: the previous hash and the content.
          expect(prevInsert).toEqual(chainHash(chainedOn, content));
        }
        expect(insertReader.nextForInsert(inserted)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('a keyed chain is not left for later (the key stays with the packer)', () => {
    expect(() => new RowPacker(GENESIS_HASH, 'key', 1, 8, true)).toThrow(/keyed chain/);
  });

  it('property: a string given as its UTF-8 bytes packs exactly as the string does', () => {
    fc.assert(
      fc.property(text, fc.string({ maxLength: 5 }), (raw, padding) => {
        const value = wellFormed(raw);
        const bytes = Buffer.from(padding + value);
        const start = Buffer.byteLength(padding);
        const asString = new RowPacker(GENESIS_HASH, undefined, 1, 8);
        const asBytes = new RowPacker(GENESIS_HASH, undefined, 1, 8);
        asString.beginRow();
        asBytes.beginRow();
        asString.string(value);
        asBytes.utf8Bytes(bytes, start, bytes.length, bytes.length - start === value.length, value.length);
        for (let i = 1; i < COLUMNS; i++) {
          asString.null();
          asBytes.null();
        }
        expect(asBytes.endRow()).toEqual(asString.endRow());
        const [fromBytes] = readAll(asBytes.take());
        expect(fromBytes.values[0]).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a row with the wrong number of columns', () => {
    const packer = new RowPacker(GENESIS_HASH, undefined, 4, 64);
    packer.beginRow();
    packer.integer(1);
    expect(() => packer.endRow()).toThrow(/1 columns written, 22 expected/);
  });
});
