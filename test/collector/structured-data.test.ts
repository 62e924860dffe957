import fc from 'fast-check';
import { canonicalContent } from '../../src/collector/chain';
import { formatStructuredData, parseStructuredData, scanStructuredData } from '../../src/collector/structured-data';

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
        expect(scanStructuredData(bytes, 0)?.end).toBe(Buffer.byteLength(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reads escapes the RFC way and refuses what is not SD', () => {
    expect(parseStructuredData('[a b="\\"\\\\\\]\\x"]')).toEqual({ a: { b: '"\\]\\x' } });
    for (const bad of ['', 'x', '[', '[a', '[a b]', '[a b="c]', '[a b="c"', '[a b=c]', '[a][a]', `[${'n'.repeat(33)}]`, '[a b="c"]x']) {
      expect(parseStructuredData(bad)).toBeUndefined();
    }
    expect(scanStructuredData(Buffer.from('[a b="c\\"]'), 0)).toBeUndefined();
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
