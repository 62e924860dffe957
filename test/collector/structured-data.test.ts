import fc from 'fast-check';
import { canonicalContent } from '../../src/collector/chain';
import { checkStructuredData, formatStructuredData, parseStructuredData } from '../../src/collector/structured-data';

const A09 = Buffer.from('a09@32473');

/** The reference: where SD ends (first `]` outside quotes not followed by `[`), then the text parser on it. */
function referenceCheck(bytes: Buffer): { end: number; ids: string[] } | undefined {
  let pos = 0;
  while (pos < bytes.length && bytes[pos] === 0x5b) {
    pos++;
    let inQuotes = false;
    for (;;) {
      if (pos >= bytes.length) return undefined;
      const byte = bytes[pos];
      if (inQuotes) {
        if (byte === 0x5c) pos++;
        else if (byte === 0x22) inQuotes = false;
      } else if (byte === 0x22) {
        inQuotes = true;
      } else if (byte === 0x5d) {
        pos++;
        break;
      }
      pos++;
    }
  }
  const sd = parseStructuredData(bytes.toString('utf8', 0, pos));
  return sd === undefined ? undefined : { end: pos, ids: Object.keys(sd) };
}

const sdName = fc.string({ minLength: 1, maxLength: 32 }).filter((name) => /^[!#-\\^-~]+$/.test(name) && !name.includes('='));
const sdValue = fc.string({ unit: 'grapheme', maxLength: 40 });
const sdObject = fc.dictionary(sdName, fc.dictionary(sdName, sdValue, { maxKeys: 5 }), { minKeys: 1, maxKeys: 4 });

describe('structured data', () => {
  it('property: formatting then parsing gives the same SD, and the byte scan finds its end', () => {
    fc.assert(
      fc.property(sdObject, fc.string({ maxLength: 20 }), (sd, rest) => {
        const text = formatStructuredData(sd);
        expect(parseStructuredData(text)).toEqual(sd);
        const bytes = Buffer.from(`${text} ${rest}`);
        expect(checkStructuredData(bytes, 0, A09)?.end).toBe(Buffer.byteLength(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reads escapes the RFC way and refuses what is not SD', () => {
    expect(parseStructuredData('[a b="\\"\\\\\\]\\x"]')).toEqual({ a: { b: '"\\]\\x' } });
    for (const bad of ['', 'x', '[', '[a', '[a b]', '[a b="c]', '[a b="c"', '[a b=c]', '[a][a]', `[${'n'.repeat(33)}]`, '[a b="c"]x']) {
      expect(parseStructuredData(bad)).toBeUndefined();
    }
    expect(checkStructuredData(Buffer.from('[a b="c\\"]'), 0, A09)).toBeUndefined();
    for (const bad of ['[', '[a', '[a b]', '[a b="c]', '[a b="c"', '[a b=c]', '[a][a]', `[${'n'.repeat(33)}]`, '[a b="c"][', '[a b="c"][]']) {
      expect(checkStructuredData(Buffer.from(bad), 0, A09)).toBeUndefined();
    }
    // What follows the SD is not its business: it ends where the SD does.
    expect(checkStructuredData(Buffer.from('[a b="c"]x'), 0, A09)).toEqual({ end: 9, nonAscii: false, hasWanted: false });
    // Many elements: a repeated SD-ID is still found (past the few compared one by one).
    const many = Array.from({ length: 40 }, (_, index) => `[id${index}]`).join('');
    expect(checkStructuredData(Buffer.from(many), 0, A09)?.end).toBe(many.length);
    expect(checkStructuredData(Buffer.from(`${many}[id7]`), 0, A09)).toBeUndefined();
  });

  it('property: the byte check accepts exactly what the text parser does, ends where it does, and finds a09@32473', () => {
    const piece = fc.constantFrom('[', ']', '"', '\\', '=', ' ', 'a', 'b', 'a09@32473', 'x@1', 'é', '✓', '😀', '\uFFFD', 'meta', 'v="1"', '\n');
    const junk = fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => Buffer.from(bytes));
    const text = fc.oneof(
      fc.array(piece, { maxLength: 24 }).map((parts) => `[${parts.join('')}`),
      sdObject.map(formatStructuredData),
      fc.tuple(sdObject, fc.constantFrom('a09@32473', 'meta')).map(([sd, id]) => formatStructuredData({ ...sd, [id]: { v: 'x' } })),
    );
    fc.assert(
      fc.property(text, fc.option(junk, { nil: undefined }), fc.nat(), fc.string({ maxLength: 8 }), (sd, inserted, at, rest) => {
        let bytes = Buffer.from(`${sd}${rest}`);
        if (inserted !== undefined) {
          const cut = at % (bytes.length + 1);
          bytes = Buffer.concat([bytes.subarray(0, cut), inserted, bytes.subarray(cut)]);
        }
        if (bytes[0] !== 0x5b) return;
        const expected = referenceCheck(bytes);
        const checked = checkStructuredData(bytes, 0, A09);
        if (expected === undefined) {
          expect(checked).toBeUndefined();
        } else {
          expect(checked).toEqual({ end: expected.end, nonAscii: bytes.subarray(0, expected.end).some((byte) => byte >= 0x80), hasWanted: expected.ids.includes('a09@32473') });
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps __proto__ as an own property, not a prototype', () => {
    const sd = parseStructuredData('[__proto__ __proto__="x" polluted="1"]');
    expect(Object.keys(sd ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(sd)).toBe(Object.prototype);
    expect(sd?.['__proto__']).toEqual({ ['__proto__']: 'x', polluted: '1' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('canonical rows', () => {
  it('is unambiguous where naive joining is not', () => {
    expect(canonicalContent(['ab', 'c'])).not.toBe(canonicalContent(['a', 'bc']));
    expect(canonicalContent([null, '~'])).not.toBe(canonicalContent(['~', null]));
    expect(canonicalContent([1, null])).not.toBe(canonicalContent(['#1;', null]));
  });
});
