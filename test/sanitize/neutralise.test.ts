import fc from 'fast-check';
import { capNeutralised, neutralise, needsNeutralising, truncationMarker, unescapeNeutralised } from '../../src/sanitize';
import { RAW_UNSAFE, anyString } from './arbitraries';

describe('neutralise (CWE-117)', () => {
  it.each([
    ['line feed', 'a\nb', 'a\\nb'],
    ['carriage return', 'a\r\nb', 'a\\r\\nb'],
    ['tab', 'a\tb', 'a\\tb'],
    ['NUL', 'a\0b', 'a\\0b'],
    ['ESC of an ANSI colour sequence', '\x1b[31mred\x1b[0m', '\\x1b[31mred\\x1b[0m'],
    ['other C0', '\x01\x08\x0b\x0c\x1f', '\\x01\\x08\\x0b\\x0c\\x1f'],
    ['DEL', 'a\x7fb', 'a\\x7fb'],
    ['NEL (U+0085)', 'a\u0085b', 'a\\x85b'],
    ['C1 CSI', 'a\u009b31m', 'a\\x9b31m'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
    ['paragraph separator', 'a\u2029b', 'a\\u2029b'],
    ['bidi override', 'user\u202egnp.exe', 'user\\u202egnp.exe'],
    ['bidi isolates', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['right-to-left mark', 'a\u200fb', 'a\\u200fb'],
    ['byte order mark', '\ufeffa', '\\ufeffa'],
    ['lone high surrogate', 'a\ud800b', 'a\\ud800b'],
    ['lone low surrogate', 'a\udc00', 'a\\udc00'],
    ['reversed pair', '\ude00\ud83d', '\\ude00\\ud83d'],
    ['backslash', 'C:\\temp\\n', 'C:\\\\temp\\\\n'],
  ])('escapes %s visibly', (_name, input, expected) => {
    expect(neutralise(input)).toBe(expected);
    expect(unescapeNeutralised(expected)).toBe(input);
  });

  it('keeps valid surrogate pairs and ordinary Unicode', () => {
    const text = 'Grüße 😀 日本 café ‘quote’ …';
    expect(neutralise(text)).toBe(text);
    expect(needsNeutralising(text)).toBe(false);
  });

  it('returns the very same string when there is nothing to do (fast path)', () => {
    const text = 'GET /rest/products/search?q=apple 200';
    expect(neutralise(text)).toBe(text);
    expect(needsNeutralising(text)).toBe(false);
    expect(needsNeutralising('a\\b')).toBe(true);
  });

  it('defeats a forged record: the injected line stays on the same line, visibly', () => {
    const forged = 'admin\n<13>1 2026-01-01T00:00:00.000Z host app - authn_login_success - ok';
    const out = neutralise(forged);
    expect(out.split(/[\r\n]/)).toHaveLength(1);
    expect(out).toContain('admin\\n<13>1 ');
  });

  describe('length cap', () => {
    it('cuts with a visible marker that counts the code units left out, within the cap', () => {
      const out = neutralise('x'.repeat(100), 40);
      expect(out.length).toBeLessThanOrEqual(40);
      const kept = out.indexOf('…');
      expect(out.slice(kept)).toBe(truncationMarker(100 - kept));
      expect(out.slice(0, kept)).toBe('x'.repeat(kept));
    });

    it('uses 4096 by default', () => {
      expect(neutralise('y'.repeat(4096))).toBe('y'.repeat(4096));
      const out = neutralise('y'.repeat(5000));
      expect(out.length).toBeLessThanOrEqual(4096);
      expect(out).toMatch(/…\[\+\d+ chars\]$/);
    });

    it('never cuts inside an escape', () => {
      for (let cap = 20; cap < 40; cap += 1) {
        const out = neutralise('\n'.repeat(50), cap);
        const body = out.slice(0, out.indexOf('…'));
        expect(body).toMatch(/^(\\n)*$/);
        expect(out.length).toBeLessThanOrEqual(cap);
        const dropped = Number(/\+(\d+) chars/.exec(out)?.[1]);
        expect(body.length / 2 + dropped).toBe(50);
      }
    });

    it('never cuts inside a surrogate pair', () => {
      for (let cap = 20; cap < 40; cap += 1) {
        const out = neutralise('😀'.repeat(40), cap);
        expect(out.length).toBeLessThanOrEqual(cap);
        expect(RAW_UNSAFE.test(out)).toBe(false);
      }
    });

    it('caps a 2-million-character input to a small budget', () => {
      const huge = '\n'.repeat(2_000_000);
      const out = neutralise(huge, 100);
      expect(out.length).toBeLessThanOrEqual(100);
      expect(out).toMatch(/…\[\+\d{7} chars\]$/);
    });

    it('capNeutralised cuts already neutralised text at escape boundaries', () => {
      const escaped = neutralise('ab\n\u2028\\\x1b'.repeat(20), Infinity);
      for (let cap = 14; cap < 60; cap += 1) {
        const out = capNeutralised(escaped, cap);
        expect(out.length).toBeLessThanOrEqual(cap);
        const body = out.slice(0, out.indexOf('…'));
        // The kept text is a prefix made of whole escapes: it unescapes to a prefix of the original.
        expect(neutralise(unescapeNeutralised(body), Infinity)).toBe(body);
      }
    });
  });

  describe('properties', () => {
    it('output never holds a raw control, separator, bidi character or lone surrogate', () => {
      fc.assert(
        fc.property(anyString, fc.integer({ min: 0, max: 200 }), (input, cap) => {
          expect(RAW_UNSAFE.test(neutralise(input))).toBe(false);
          const capped = neutralise(input, cap);
          expect(RAW_UNSAFE.test(capped)).toBe(false);
          if (cap >= truncationMarker(input.length).length) expect(capped.length).toBeLessThanOrEqual(cap);
        }),
        { numRuns: 2000 },
      );
    });

    it('round-trips: unescapeNeutralised(neutralise(s, Infinity)) === s', () => {
      fc.assert(
        fc.property(anyString, (input) => {
          expect(unescapeNeutralised(neutralise(input, Infinity))).toBe(input);
        }),
        { numRuns: 2000 },
      );
    });

    it('a truncated result is a prefix of the full escaping plus a marker', () => {
      fc.assert(
        fc.property(anyString, fc.integer({ min: 16, max: 120 }), (input, cap) => {
          const full = neutralise(input, Infinity);
          const capped = neutralise(input, cap);
          if (full.length <= cap) {
            expect(capped).toBe(full);
            return;
          }
          const match = /…\[\+(\d+) chars\]$/.exec(capped);
          expect(match).not.toBeNull();
          const body = capped.slice(0, capped.length - (match?.[0].length ?? 0));
          expect(full.startsWith(body)).toBe(true);
          expect(unescapeNeutralised(body).length + Number(match?.[1])).toBe(input.length);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
