import fc from 'fast-check';
import { EventSource, type AuditEvent, type DetailValue } from '../../src/events';
import { DEFAULT_REDACTION, createRedactionPolicy, sanitizeEvent, toJsonLine, unescapeNeutralised, type RedactionPolicy } from '../../src/sanitize';
import { safeCutPoint } from '../../src/sanitize/sanitize-event';
import { RAW_UNSAFE, hostileString } from './arbitraries';
import { ADMIN_MD5, makeTokens } from './secrets';

const tokens = makeTokens();
const source = new EventSource({ app: 'juice-shop', host: 'lab', hmacKey: 'test-key', instance: '8f5c2a4e-6b1d-4a8e-9c1f-2d3e4f5a6b7c' });

function loginFailure(overrides: Partial<AuditEvent> = {}): AuditEvent {
  const event = source.create({
    type: 'authn_login_fail',
    outcome: 'failure',
    reason: 'bad password',
    email: 'admin@juice-sh.op',
    who: { ip: '127.0.0.1', userAgent: 'curl/7.88.1' },
    where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: 'req-1', status: 401 },
    detail: { attempts: 3, locked: false, note: null },
  });
  return { ...event, ...overrides };
}

/** Every string in an event, keys of detail included. */
function stringsOf(event: AuditEvent): string[] {
  const out: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        out.push(key);
        visit(item);
      }
    }
  };
  visit(event);
  return out;
}

describe('sanitizeEvent', () => {
  it('returns a new event and leaves the input as it was', () => {
    const event = loginFailure({ description: 'line1\nline2', detail: { password: 'admin123', n: 1 } });
    const before = JSON.stringify(event);
    const sanitized = sanitizeEvent(event);
    expect(JSON.stringify(event)).toBe(before);
    expect(sanitized).not.toBe(event);
    expect(sanitized.who).not.toBe(event.who);
    expect(sanitized.where).not.toBe(event.where);
    expect(sanitized.detail).not.toBe(event.detail);
    expect(sanitized.description).toBe('line1\\nline2');
    expect(sanitized.detail).toEqual({ password: '[REDACTED]', n: 1 });
  });

  it('gives each policy its own result for the same text, every time (recent results are remembered per policy)', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const event = loginFailure({ who: { ip: '127.0.0.1', userAgent: `bot ${jwt}` }, reason: `token ${jwt}` });
    const other = createRedactionPolicy({ replacement: '<gone>', values: { jwt: false } });
    for (let round = 0; round < 3; round++) {
      expect(sanitizeEvent(event).who.userAgent).toBe('bot [REDACTED:jwt]');
      expect(sanitizeEvent(event, other).who.userAgent).toBe(`bot ${jwt}`);
      expect(sanitizeEvent(event).reason).toBe('token [REDACTED:jwt]');
    }
    // A policy object that is not frozen may change between calls: it is never answered from memory.
    const mutable = { ...DEFAULT_REDACTION, values: { ...DEFAULT_REDACTION.values } } as { -readonly [K in keyof RedactionPolicy]: RedactionPolicy[K] };
    expect(sanitizeEvent(event, mutable).who.userAgent).toBe('bot [REDACTED:jwt]');
    mutable.values = { ...mutable.values, jwt: false };
    expect(sanitizeEvent(event, mutable).who.userAgent).toBe(`bot ${jwt}`);
  });

  it('keeps an ordinary event field for field', () => {
    const event = loginFailure();
    expect(sanitizeEvent(event)).toEqual(event);
  });

  it('neutralises every string, detail keys included, and keeps numbers, booleans and null', () => {
    const event = loginFailure({
      reason: 'r\r\n',
      who: { ip: '127.0.0.1', userAgent: 'evil\x1b[2J\u202e', forwardedFor: '1.2.3.4\n5.6.7.8', userId: '1' },
      where: { method: 'GET\n', route: '/a\u2028', url: '/x?q=\n', requestId: '\0', status: 200 },
      detail: { 'k\ney': 'v\u2029', count: 5, ok: true, none: null },
    });
    const sanitized = sanitizeEvent(event);
    for (const text of stringsOf(sanitized)) expect(RAW_UNSAFE.test(text)).toBe(false);
    expect(sanitized.who.userAgent).toBe('evil\\x1b[2J\\u202e');
    expect(sanitized.detail).toEqual({ 'k\\ney': 'v\\u2029', count: 5, ok: true, none: null });
    expect(sanitized.where.status).toBe(200);
    expect(sanitized.seq).toBe(event.seq);
  });

  it('redacts the URL with redactUrl and sensitive detail keys whatever their value', () => {
    const event = loginFailure({
      where: { method: 'GET', url: '/rest/user/change-password?current=admin123&new=x&repeat=x', requestId: 'r', route: '/rest/user/change-password' },
      detail: { token: tokens.rs256, cardNum: 4111111111111111, totpSecret: 'IFTXE3SPOEYVURT2', isTotp: true },
    });
    const sanitized = sanitizeEvent(event);
    expect(sanitized.where.url).toBe('/rest/user/change-password?current=[REDACTED]&new=[REDACTED]&repeat=[REDACTED]');
    expect(sanitized.detail).toEqual({ token: '[REDACTED]', cardNum: '[REDACTED]', totpSecret: '[REDACTED]', isTotp: true });
  });

  it('redacts digests in free text (an SQL error) but not in ids', () => {
    const hexId = 'a3f1c2d4e5b6a7980a1b2c3d4e5f6a7b';
    const event = loginFailure({
      description: `SQLITE_ERROR: near "${ADMIN_MD5}": syntax error`,
      where: { method: 'POST', url: '/rest/user/login', requestId: hexId, route: '/rest/user/login' },
    });
    const sanitized = sanitizeEvent(event);
    expect(sanitized.description).toBe('SQLITE_ERROR: near "[REDACTED:digest]": syntax error');
    expect(sanitized.where.requestId).toBe(hexId);
  });

  it('caps each field with the visible marker', () => {
    const event = loginFailure({ description: 'd'.repeat(5000), detail: { stack: 's'.repeat(20000) } });
    const sanitized = sanitizeEvent(event);
    expect(sanitized.description.length).toBeLessThanOrEqual(2048);
    expect(sanitized.description).toMatch(/…\[\+\d+ chars\]$/);
    expect(String(sanitized.detail.stack).length).toBeLessThanOrEqual(8192);
  });

  it('bounds the work on a huge field and does not leave half a secret at the cut', () => {
    const filler = 'x '.repeat(9000);
    const huge = `${filler}${tokens.rs256} ${'y'.repeat(2_000_000)}`;
    const sanitized = sanitizeEvent(loginFailure({ description: huge }));
    expect(sanitized.description).toMatch(/…\[\+\d{7} chars\]$/);
    const payload = tokens.rs256.split('.')[1];
    expect(sanitized.description).not.toContain(payload.slice(0, 20));
    // A JWT straddling the raw limit is dropped whole rather than cut into an unrecognisable half.
    const limit = 2048 * 2 + 8192;
    const straddling = `${'z '.repeat((limit - 100) / 2)}${tokens.rs256} tail`;
    const cut = safeCutPoint(straddling, limit);
    expect(straddling.slice(0, cut)).not.toContain('eyJ');
    // Half a card number goes whole too.
    const card = `${'a '.repeat(10)}4111 1111 1111 1111 end`;
    expect(card.slice(0, safeCutPoint(card, 27))).toBe('a a a a a a a a a a');
  });

  it('caps the number of detail keys', () => {
    const detail: Record<string, DetailValue> = {};
    for (let index = 0; index < 100; index += 1) detail[`k${index}`] = index;
    const sanitized = sanitizeEvent(loginFailure({ detail }));
    expect(Object.keys(sanitized.detail)).toHaveLength(65);
    expect(sanitized.detail['…']).toBe('[+36 keys]');
  });

  it('keeps a "__proto__" detail key as data', () => {
    const detail = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, DetailValue>;
    const sanitized = sanitizeEvent(loginFailure({ detail }));
    expect(Object.keys(sanitized.detail)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(sanitized.detail)).toBe(Object.prototype);
  });

  it('toJsonLine of a sanitized event parses back to the very same event (no double escaping)', () => {
    const event = loginFailure({ description: 'C:\\temp\n\x1b[31m', detail: { path: '..\\..\\etc', q: "' OR 1=1--" } });
    const sanitized = sanitizeEvent(event);
    expect(JSON.parse(toJsonLine(sanitized))).toEqual(sanitized);
    expect(unescapeNeutralised(sanitized.description)).toBe('C:\\temp\n\x1b[31m');
  });

  describe('properties', () => {
    const canaries = [tokens.rs256, tokens.unsigned, `Bearer ${'Zm9vYmFyYmF6cXV4'}`, '4111 1111 1111 1111', 'password=Sup3rS3cret!'];
    const canaryMaterial = [tokens.rs256.split('.')[1], tokens.unsigned.split('.')[1], 'Zm9vYmFyYmF6cXV4', '4111', 'Sup3rS3cret'];
    const fields = ['reason', 'description', 'who.userId', 'who.ip', 'who.emailMasked', 'who.userAgent', 'who.forwardedFor', 'who.role', 'where.method', 'where.route', 'where.url', 'where.requestId', 'detail.value', 'detail.key'] as const;

    function place(event: AuditEvent, field: (typeof fields)[number], text: string): AuditEvent {
      const copy: AuditEvent = { ...event, who: { ...event.who }, where: { ...event.where }, detail: { ...event.detail } };
      switch (field) {
        case 'reason':
          copy.reason = text;
          break;
        case 'description':
          copy.description = text;
          break;
        case 'detail.value':
          copy.detail.note = text;
          break;
        case 'detail.key':
          copy.detail[text] = 1;
          break;
        default: {
          const [part, key] = field.split('.') as ['who' | 'where', string];
          (copy[part] as Record<string, unknown>)[key] = text;
        }
      }
      return copy;
    }

    it('no string of the output holds a raw control, separator, bidi character or lone surrogate', () => {
      fc.assert(
        fc.property(fc.constantFrom(...fields), hostileString, hostileString, (field, text, key) => {
          const event = place(loginFailure({ detail: { [key]: text } }), field, text);
          for (const value of stringsOf(sanitizeEvent(event))) expect(RAW_UNSAFE.test(value)).toBe(false);
        }),
        { numRuns: 1000 },
      );
    });

    it('a canary secret in any field, amid hostile text, is gone', () => {
      fc.assert(
        fc.property(fc.constantFrom(...fields), fc.integer({ min: 0, max: canaries.length - 1 }), hostileString, hostileString, (field, which, before, after) => {
          // Separate the canary from the noise as text usually does: a secret glued to arbitrary characters is another token.
          const text = `${before} ${canaries[which]} ${after}`;
          const sanitized = sanitizeEvent(place(loginFailure(), field, text));
          const all = stringsOf(sanitized).join('\n');
          expect(all).not.toContain(canaryMaterial[which]);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
