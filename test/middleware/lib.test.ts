import fc from 'fast-check';
import { LruMap } from '../../middleware/lib/lru';
import { redactSecrets, redactUrl, sensitiveKeySet } from '../../middleware/lib/redact';
import { matchAuditedRoute, resolvedPath, routingPath } from '../../middleware/lib/routes';
import { md5 } from './helpers';

describe('redactUrl', () => {
  const keys = sensitiveKeySet(['pin']);

  it('redacts change-password values and keeps the rest as sent', () => {
    expect(redactUrl('/rest/user/change-password?current=admin123&new=x%20y&repeat=x+y&lang=en', keys)).toBe(
      '/rest/user/change-password?current=[REDACTED]&new=[REDACTED]&repeat=[REDACTED]&lang=en',
    );
    expect(redactUrl('/x?Token=abc&PIN=1234&q=juice', keys)).toBe('/x?Token=[REDACTED]&PIN=[REDACTED]&q=juice');
    expect(redactUrl('/x?%6Eew=secret', keys)).toBe('/x?%6Eew=[REDACTED]');
  });

  it('redacts secrets by value in other parameters and in the path', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJkYXRhIjp7fX0.c2lnbmF0dXJl';
    expect(redactUrl(`/rest/products/search?q=4111%201111%201111%201111`, keys)).toBe('/rest/products/search?q=[REDACTED]');
    expect(redactUrl(`/rest/x?q=${md5('admin123')}`, keys)).toBe('/rest/x?q=[REDACTED]');
    expect(redactUrl(`/files/${jwt}/x`, keys)).toBe('/files/[REDACTED:jwt]/x');
    expect(redactUrl('/rest/products/search?q=apple', keys)).toBe('/rest/products/search?q=apple');
    expect(redactUrl('/rest/basket/1', keys)).toBe('/rest/basket/1');
  });

  it('never lets a sensitive value through, whatever it is (property)', () => {
    // The check is that the output does not depend on the secret at all: a substring test would fail
    // whenever the secret happens to equal another parameter or a piece of "[REDACTED]" (CI seed -844382759).
    const value = fc.string({ minLength: 1, maxLength: 20 });
    const key = fc.constantFrom('current', 'new', 'repeat', 'password', 'token', 'Authorization', 'PIN', 'New');
    fc.assert(
      fc.property(key, value, value, fc.string({ maxLength: 10 }), (name, secret, otherSecret, other) => {
        const urlWith = (v: string): string => `/p?a=${encodeURIComponent(other)}&${name}=${encodeURIComponent(v)}&z=1`;
        const redacted = redactUrl(urlWith(secret), keys);
        expect(redacted).toBe(redactUrl(urlWith(otherSecret), keys));
        expect(redacted.endsWith(`&${name}=[REDACTED]&z=1`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('redactSecrets', () => {
  it('redacts hashes, cards (Luhn only), bearer tokens, emails on request', () => {
    expect(redactSecrets(`password = '${md5('x')}'`)).toBe("password = '[REDACTED:digest]'");
    expect(redactSecrets('card 4111-1111-1111-1111 and 4111-1111-1111-1112')).toBe('card [REDACTED:card] and 4111-1111-1111-1112');
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: [REDACTED:bearer]');
    expect(redactSecrets("email = 'jim@juice-sh.op'", { emails: true })).toBe("email = '[REDACTED:email]'");
  });
});

describe('route matching', () => {
  it.each([
    ['POST', '/rest/user/login', 'login'],
    ['POST', '/REST/User/Login', 'login'],
    ['GET', '/rest/user/login', undefined],
    ['HEAD', '/rest/user/change-password', 'change-password'],
    ['GET', '/rest/basket/5', 'basket'],
    ['GET', '/rest/basket/', undefined],
    ['POST', '/rest/basket/5/checkout', 'checkout'],
    ['PUT', '/rest/basket/5/coupon/ABC%3D', 'coupon'],
    ['POST', '/api/BasketItems', 'basket-items'],
    ['POST', '/api/basketitems', 'basket-items'],
    ['PUT', '/api/BasketItems/3', 'basket-item'],
    ['GET', '/api/BasketItems/3', undefined],
    ['GET', '/rest/products/search', 'search'],
    ['GET', '/assets/main.js', undefined],
  ])('%s %s -> %s', (method, url, name) => {
    expect(matchAuditedRoute(method, routingPath(url))?.name).toBe(name);
  });

  it('decodes parameters as Express does', () => {
    expect(matchAuditedRoute('PUT', '/rest/basket/5/coupon/ABC%3D')?.params).toEqual({ id: '5', coupon: 'ABC=' });
  });

  it('routingPath collapses slashes and drops the query and one trailing slash', () => {
    expect(routingPath('//rest///basket/1/?x=1')).toBe('/rest/basket/1');
  });

  it('resolvedPath decodes, resolves dot segments and lower-cases', () => {
    expect(resolvedPath('/support/x/../%4Cogs/./a')).toBe('/support/logs/a');
    expect(resolvedPath('/support/%252e%252e/logs')).toBe('/logs');
    expect(resolvedPath('\\support\\logs')).toBe('/support/logs');
  });
});

describe('LruMap', () => {
  it('evicts the least recently used entry and never grows past its bound', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(1);
    for (let i = 0; i < 100; i++) map.set(String(i), i);
    expect(map.size).toBe(2);
  });

  it('behaves as a plain least-recently-used list under any sequence of operations (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('peek' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 5 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (bound, ops) => {
        const map = new LruMap<number, number>(bound);
        // The reference: entries oldest first.
        let model: Array<[number, number]> = [];
        const touch = (key: number, value: number): void => {
          model = model.filter(([k]) => k !== key);
          model.push([key, value]);
        };
        for (const step of ops) {
          const found = model.find(([k]) => k === step.key);
          if (step.kind === 'get') {
            expect(map.get(step.key)).toBe(found?.[1]);
            if (found !== undefined) touch(found[0], found[1]);
          } else if (step.kind === 'peek') {
            expect(map.peek(step.key)).toBe(found?.[1]);
          } else if (step.kind === 'set') {
            map.set(step.key, step.value);
            if (found === undefined && model.length >= bound) model.shift();
            touch(step.key, step.value);
          } else {
            expect(map.delete(step.key)).toBe(found !== undefined);
            model = model.filter(([k]) => k !== step.key);
          }
          expect(map.size).toBe(model.length);
        }
        // Same contents, and the same eviction order: filling with fresh keys pushes them out oldest first.
        for (const [key, value] of model) expect(map.peek(key)).toBe(value);
        for (const [key] of model) {
          map.set(-1 - key, 0);
          if (model.length === bound) expect(map.peek(key)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
