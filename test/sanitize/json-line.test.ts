import fc from 'fast-check';
import { neutralise, toJsonLine, unescapeNeutralised } from '../../src/sanitize';
import { anyString } from './arbitraries';

const ONE_PRINTABLE_ASCII_LINE = /^[\x20-\x7e]*$/;

describe('toJsonLine', () => {
  it('writes one line of printable ASCII that parses back, strings neutralised', () => {
    const line = toJsonLine({ msg: 'a\nb', 'k\u2028': 'café 😀', n: 1, ok: true, none: null });
    expect(line).toMatch(ONE_PRINTABLE_ASCII_LINE);
    expect(JSON.parse(line)).toEqual({ msg: 'a\\nb', 'k\\u2028': 'café 😀', n: 1, ok: true, none: null });
  });

  it('does not escape text twice: already neutralised strings pass unchanged', () => {
    const neutralised = { text: neutralise('C:\\x\n\x1b[31m') };
    expect(JSON.parse(toJsonLine(neutralised))).toEqual(neutralised);
  });

  it('never throws: cycles, bigint, NaN, undefined, errors, dates, throwing toJSON, depth', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const error = new Error('boom\nline2');
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let index = 0; index < 40; index += 1) {
      cursor.next = {};
      cursor = cursor.next as Record<string, unknown>;
    }
    const parsed = JSON.parse(
      toJsonLine({
        cyclic,
        big: BigInt(12345678901234567890n),
        nan: Number.NaN,
        gone: undefined,
        error,
        when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
        bad: { toJSON: () => { throw new Error('no'); } },
        deep,
        list: [undefined, () => 1],
      }),
    );
    expect(parsed.cyclic).toEqual({ name: 'loop', self: '[Circular]' });
    expect(parsed.big).toBe('12345678901234567890');
    expect(parsed.nan).toBeNull();
    expect('gone' in parsed).toBe(false);
    expect(parsed.error.message).toBe('boom\\nline2');
    expect(parsed.error.stack).toContain('boom\\nline2\\n    at ');
    expect(parsed.when).toBe('2026-01-02T03:04:05.006Z');
    expect(parsed.bad).toBe('[Unserialisable]');
    expect(JSON.stringify(parsed.deep)).toContain('[Truncated]');
    expect(parsed.list).toEqual([null, null]);
    expect(toJsonLine(undefined)).toBe('null');
  });

  it('keeps a "__proto__" key as data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": 1}') as Record<string, unknown>;
    const parsed = JSON.parse(toJsonLine(input));
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('caps long strings with the visible marker', () => {
    const parsed = JSON.parse(toJsonLine({ s: 'z'.repeat(100) }, { maxStringLength: 40 }));
    expect(parsed.s.length).toBeLessThanOrEqual(40);
    expect(parsed.s).toMatch(/^z+…\[\+\d+ chars\]$/);
  });

  it('property: any value gives one printable ASCII line that JSON.parse accepts, strings round-trip', () => {
    fc.assert(
      fc.property(fc.dictionary(anyString, fc.oneof(anyString, fc.double(), fc.boolean(), fc.array(anyString, { maxLength: 3 }))), (input) => {
        const line = toJsonLine(input);
        expect(line).toMatch(ONE_PRINTABLE_ASCII_LINE);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        for (const [key, value] of Object.entries(parsed)) {
          if (typeof value === 'string' && value.length < 1000) {
            // Either untouched (nothing dangerous) or neutralised: unescaping gives the input back.
            const original = Object.entries(input).find(([k]) => k === key || neutralise(k) === key)?.[1];
            expect(value === original || unescapeNeutralised(value) === original).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('property: plain values (serialised as they are, without a copy) give exactly what the copying walk gives', () => {
    // A function member sends the whole value down the copying walk (which omits it): both lines must be equal.
    const plain = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, anyString, fc.double(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 3 }),
      object: fc.dictionary(anyString, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(plain.value, fc.integer({ min: 1, max: 6 }), (value, maxDepth) => {
        const options = { maxDepth, maxStringLength: 64 };
        expect(toJsonLine({ value }, options)).toBe(toJsonLine({ value, copy: () => 0 }, options));
      }),
      { numRuns: 1000 },
    );
    const event = { type: 'authn_login_fail', who: { ip: '10.0.0.1', emailMasked: 'j**@juice-sh.op' }, where: { status: 401 }, detail: { sqli: false, n: 3 } };
    expect(toJsonLine(event)).toBe(JSON.stringify(event));
  });

  it('property: anything (bigint, dates, maps, null prototypes, sparse arrays) encodes to printable ASCII JSON', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true, withSparseArray: true }), (input) => {
        const line = toJsonLine(input);
        expect(line).toMatch(ONE_PRINTABLE_ASCII_LINE);
        expect(() => JSON.parse(line)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});
