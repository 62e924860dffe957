import fc from 'fast-check';
import { scanJson } from '../../middleware';

describe('scanJson', () => {
  it('finds the duplicate BasketId of the basket manipulation and keeps every value in order', () => {
    const scan = scanJson('{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}');
    expect(scan.valid).toBe(true);
    expect(scan.duplicates).toEqual([{ path: '$', key: 'BasketId' }]);
    expect(scan.topLevel.get('BasketId')).toEqual(['1', '2']);
  });

  it('compares keys after unescaping, as JSON.parse merges them', () => {
    const text = '{"BasketId":"1","Basket\\u0049d":"2"}';
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['BasketId']);
    expect(scanJson(text).duplicates).toEqual([{ path: '$', key: 'BasketId' }]);
  });

  it('reports nested duplicates with their path, once per key', () => {
    const scan = scanJson('{"a":[{"x":1,"x":2,"x":3}],"b":{"c":{"y":1,"y":2}}}');
    expect(scan.duplicates).toEqual([
      { path: '$.a[0]', key: 'x' },
      { path: '$.b.c', key: 'y' },
    ]);
  });

  it('does not mistake keys inside strings or values for keys', () => {
    const scan = scanJson('{"note":"\\"BasketId\\":1,\\"BasketId\\":2","BasketId":"1"}');
    expect(scan.valid).toBe(true);
    expect(scan.duplicates).toEqual([]);
  });

  it.each(['{"a":1,}', '{"a" 1}', '{"a":01}', '{"a":"\u0001"}', '[1,2', '{"a":1} x', '', 'nul', '{"a":1e}', '"\\x"', '{"a":-}'])(
    'refuses invalid JSON %p like JSON.parse does',
    (text) => {
      expect(() => JSON.parse(text) as unknown).toThrow();
      expect(scanJson(text).valid).toBe(false);
    },
  );

  it('caps depth and length', () => {
    expect(scanJson('['.repeat(100) + ']'.repeat(100)).valid).toBe(false);
    expect(scanJson('"' + 'a'.repeat(100) + '"', { maxLength: 50 }).valid).toBe(false);
  });

  it('agrees with JSON.parse on validity and finds no duplicates in what JSON.stringify wrote (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const scan = scanJson(text);
        expect(scan.valid).toBe(true);
        expect(scan.duplicates).toEqual([]);
      }),
    );
  });

  it('agrees with JSON.parse on arbitrary mutations of JSON text (property)', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.nat(), fc.string({ maxLength: 3 }), (text, at, insert) => {
        const position = text.length === 0 ? 0 : at % text.length;
        const mutated = text.slice(0, position) + insert + text.slice(position);
        let parses = true;
        try {
          JSON.parse(mutated);
        } catch {
          parses = false;
        }
        expect(scanJson(mutated).valid).toBe(parses);
      }),
      { numRuns: 500 },
    );
  });

  it('finds a duplicate injected into any generated object (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), fc.jsonValue({ maxDepth: 1 }), (object, extra) => {
        const key = Object.keys(object)[0]!;
        const text = JSON.stringify(object).slice(0, -1) + `,${JSON.stringify(key)}:${JSON.stringify(extra)}}`;
        const scan = scanJson(text);
        expect(scan.valid).toBe(true);
        expect(scan.duplicates).toContainEqual({ path: '$', key });
      }),
    );
  });
});
