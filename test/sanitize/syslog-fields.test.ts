import fc from 'fast-check';
import {
  HEADER_FIELD_LIMITS,
  encodeHeaderField,
  encodeSdName,
  encodeSdValue,
  neutralise,
  unescapeNeutralised,
} from '../../src/sanitize';
import { RAW_UNSAFE, anyString } from './arbitraries';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Undo RFC 5424 PARAM-VALUE escaping; undefined when a `"`, `]` or `\` stands unescaped. */
function unescapeSdValue(value: string): string | undefined {
  let out = '';
  for (let index = 0; index < value.length; index += 1) {
    const char = value[index];
    if (char === '\\') {
      const next = value[index + 1];
      if (next !== '"' && next !== '\\' && next !== ']') return undefined;
      out += next;
      index += 1;
    } else if (char === '"' || char === ']') {
      return undefined;
    } else {
      out += char;
    }
  }
  return out;
}

describe('encodeHeaderField', () => {
  it('passes printable ASCII through and gives the NILVALUE for empty', () => {
    expect(encodeHeaderField('authn_login_fail', HEADER_FIELD_LIMITS.MSGID)).toBe('authn_login_fail');
    expect(encodeHeaderField('', HEADER_FIELD_LIMITS.HOSTNAME)).toBe('-');
  });

  it('escapes spaces, controls and non-ASCII visibly so a header cannot be split', () => {
    expect(encodeHeaderField('juice shop', 48)).toBe('juice\\x20shop');
    expect(encodeHeaderField('a\nb', 48)).toBe('a\\x0ab');
    expect(encodeHeaderField('back\\slash', 48)).toBe('back\\\\slash');
    expect(encodeHeaderField('café', 48)).toBe('caf\\xe9');
    expect(encodeHeaderField('x\u2028', 48)).toBe('x\\u2028');
  });

  it('honours the RFC 5424 limits with a visible marker, not cutting an escape', () => {
    const out = encodeHeaderField('h'.repeat(300), HEADER_FIELD_LIMITS.HOSTNAME);
    expect(out).toBe('h'.repeat(252) + '...');
    const spaced = encodeHeaderField(' '.repeat(20), HEADER_FIELD_LIMITS.MSGID);
    expect(spaced).toBe('\\x20'.repeat(7) + '...');
    expect(encodeHeaderField('abcdef', 2)).toBe('ab');
  });

  it('property: any input gives 1..limit printable US-ASCII characters, no space', () => {
    fc.assert(
      fc.property(anyString, fc.constantFrom(...Object.values(HEADER_FIELD_LIMITS), 1, 3, 4, 7), (input, limit) => {
        const out = encodeHeaderField(input, limit);
        expect(out).toMatch(PRINTABLE_ASCII);
        expect(out.length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encodeSdName', () => {
  it('replaces characters an SD-NAME may not hold with _ and caps at 32', () => {
    expect(encodeSdName('requestId')).toBe('requestId');
    expect(encodeSdName('a b=c]d"e')).toBe('a_b_c_d_e');
    expect(encodeSdName('é\n')).toBe('__');
    expect(encodeSdName('')).toBe('_');
    expect(encodeSdName('n'.repeat(40))).toBe('n'.repeat(32));
  });

  it('property: any input gives a valid SD-NAME', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        expect(encodeSdName(input)).toMatch(/^[\x21-\x7e]{1,32}$/);
        expect(encodeSdName(input)).not.toMatch(/[= \]"]/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('encodeSdValue', () => {
  it('neutralises, then escapes the three characters RFC 5424 requires', () => {
    expect(encodeSdValue('say "hi"] \\ now')).toBe('say \\"hi\\"\\] \\\\\\\\ now');
    expect(encodeSdValue('x"]\n[a09@32473 forged="1"]')).toBe('x\\"\\]\\\\n[a09@32473 forged=\\"1\\"\\]');
  });

  it('caps with the neutralise marker, its ] escaped too', () => {
    expect(encodeSdValue('v'.repeat(100), 30)).toMatch(/^v+…\[\+\d+ chars\\\]$/);
  });

  it('property: no raw control or separator, no unescaped " ] \\, and it reads back to the neutralised text', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = encodeSdValue(input);
        expect(RAW_UNSAFE.test(out)).toBe(false);
        const unescaped = unescapeSdValue(out);
        expect(unescaped).toBe(neutralise(input));
        if (unescaped !== undefined && input.length < 1000) expect(unescapeNeutralised(unescaped)).toBe(input);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: with any cap, it reads back to neutralise with the same cap', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 0, max: 120 }), (input, cap) => {
        expect(unescapeSdValue(encodeSdValue(input, cap))).toBe(neutralise(input, cap));
      }),
      { numRuns: 2000 },
    );
  });
});
