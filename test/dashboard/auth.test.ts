import fc from 'fast-check';
import vm from 'node:vm';
import { FilterError, PUBLIC_FILES, TicketBook, TokenCheck, alertQueryFrom, eventQueryFrom, generateToken, tokenProblem, type QueryParams } from '../../src/dashboard';

describe('tokens', () => {
  it('generates 256-bit URL-safe tokens, different each time, that pass the checks', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokenProblem(token)).toBeUndefined();
    }
  });

  it('refuses weak or malformed configured tokens', () => {
    expect(tokenProblem('short')).toMatch(/at least 16/);
    expect(tokenProblem('sixteen chars ok')).toMatch(/printable ASCII without spaces/);
    expect(tokenProblem('x'.repeat(600))).toMatch(/at most 512/);
    expect(tokenProblem('é'.repeat(20))).toMatch(/printable ASCII/);
  });

  it('matches the token and nothing else', () => {
    const token = generateToken();
    const check = new TokenCheck(token);
    expect(check.matches(token)).toBe(true);
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (other) => {
        fc.pre(other !== token);
        expect(check.matches(other)).toBe(false);
      }),
    );
    expect(check.matches(token + ' ')).toBe(false);
    expect(check.matches(token.toUpperCase())).toBe(token === token.toUpperCase());
  });

  it('reads a Bearer header strictly, and never throws on junk', () => {
    expect(TokenCheck.fromHeader('Bearer abc')).toBe('abc');
    expect(TokenCheck.fromHeader('bearer   abc  ')).toBe('abc');
    expect(TokenCheck.fromHeader('Basic abc')).toBeUndefined();
    expect(TokenCheck.fromHeader('Bearer')).toBeUndefined();
    expect(TokenCheck.fromHeader('Bearer a b')).toBeUndefined();
    expect(TokenCheck.fromHeader(undefined)).toBeUndefined();
    fc.assert(fc.property(fc.string(), (header) => void TokenCheck.fromHeader(header)));
  });
});

describe('stream tickets', () => {
  it('are single-use', () => {
    const book = new TicketBook();
    const ticket = book.issue();
    expect(book.redeem(ticket)).toBe(true);
    expect(book.redeem(ticket)).toBe(false);
    expect(book.redeem('')).toBe(false);
    expect(book.redeem(generateToken())).toBe(false);
  });

  it('expire after their time to live', () => {
    let now = 1_000_000;
    const book = new TicketBook({ ttlMs: 30_000, now: () => now });
    const early = book.issue();
    now += 20_000;
    const later = book.issue();
    now += 10_001;
    expect(book.redeem(early)).toBe(false);
    expect(book.redeem(later)).toBe(true);
    const fresh = book.issue();
    now += 30_000;
    expect(book.redeem(fresh)).toBe(true);
  });

  it('stay bounded: past the cap the oldest is forgotten', () => {
    const book = new TicketBook({ maxTickets: 4 });
    const tickets = Array.from({ length: 6 }, () => book.issue());
    expect(book.outstanding).toBe(4);
    expect(book.redeem(tickets[0])).toBe(false);
    expect(book.redeem(tickets[1])).toBe(false);
    expect(book.redeem(tickets[5])).toBe(true);
  });
});

describe('query parameters', () => {
  it('turn into a query or a FilterError, never anything else, whatever a client sends', () => {
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
    const names = fc.constantFrom('type', 'format', 'source', 'host', 'actor', 'ip', 'maxSeverity', 'since', 'until', 'text', 'before', 'after', 'limit', 'state', 'rule', 'key', 'other');
    fc.assert(
      fc.property(fc.dictionary(names, value), (params) => {
        for (const parse of [eventQueryFrom, alertQueryFrom]) {
          try {
            const query = parse(params as QueryParams);
            expect(query.limit).toBeGreaterThanOrEqual(1);
            expect(query.limit).toBeLessThanOrEqual(1000);
          } catch (error) {
            expect(error).toBeInstanceOf(FilterError);
          }
        }
      }),
    );
  });

  it('normalise times to the store\'s UTC form', () => {
    expect(eventQueryFrom({ since: '2026-01-15T10:00:00+01:00' }).since).toBe('2026-01-15T09:00:00.000Z');
    expect(eventQueryFrom({ until: '2026-01-15' }).until).toBe('2026-01-15T00:00:00.000Z');
  });
});

describe('the page', () => {
  const file = (path: string): string => (PUBLIC_FILES.find((entry) => entry.paths.includes(path)) as { body: string }).body;

  it('is valid JavaScript', () => {
    expect(() => new vm.Script(file('/app.js'), { filename: 'app.js' })).not.toThrow();
  });

  it('never hands text to an HTML parser or an evaluator', () => {
    const script = file('/app.js');
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(', 'srcdoc', 'createContextualFragment', 'DOMParser']) {
      expect(script).not.toContain(sink);
    }
    // Timers are only ever given functions.
    expect(script).not.toMatch(/setTimeout\(\s*['"]/);
  });

  it('has no inline script, style or event handler for the CSP to allow', () => {
    const html = file('/');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
  });
});
