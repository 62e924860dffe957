import fc from 'fast-check';
import { createRedactionPolicy, redactObject, redactQuery, redactTokenPayload, redactUrl } from '../../src/sanitize';
import { ADMIN_MD5, JUICE_SHOP_PAYLOAD, makeTokens } from './secrets';

const tokens = makeTokens();

describe('redactObject', () => {
  it('redacts sensitive keys at any depth, strings by value, and keeps the rest', () => {
    const headers = {
      host: 'localhost:3000',
      authorization: `Bearer ${tokens.rs256}`,
      cookie: `token=${tokens.rs256}; language=en`,
      'x-api-key': 'k-123',
      'user-agent': 'curl/7.88.1',
      'set-cookie': ['a=1', 'b=2'],
    };
    const body = { email: 'jim@juice-sh.op', password: 'ncc-1701', passwordRepeat: 'ncc-1701', securityAnswer: 'Samuel', quantity: 2 };
    expect(redactObject({ headers, body, note: `see ${tokens.unsigned}` })).toEqual({
      headers: {
        host: 'localhost:3000',
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        'user-agent': 'curl/7.88.1',
        'set-cookie': '[REDACTED]',
      },
      body: { email: 'jim@juice-sh.op', password: '[REDACTED]', passwordRepeat: '[REDACTED]', securityAnswer: '[REDACTED]', quantity: 2 },
      note: 'see [REDACTED:jwt]',
    });
  });

  it('keeps booleans and null under sensitive keys: they carry no secret', () => {
    expect(redactObject({ totpEnabled: false, password: null, token: undefined, pin: 0 })).toEqual({
      totpEnabled: false,
      password: null,
      token: undefined,
      pin: '[REDACTED]',
    });
  });

  it('is a deep copy: the input is not changed', () => {
    const input = { a: { password: 'x', list: [{ token: 'y' }] } };
    const before = JSON.stringify(input);
    const copy = redactObject(input);
    expect(JSON.stringify(input)).toBe(before);
    expect(copy.a).not.toBe(input.a);
    expect(copy.a.list).not.toBe(input.a.list);
  });

  it('is safe with cycles, deep nesting, big arrays and many keys', () => {
    const cyclic: Record<string, unknown> = { name: 'n' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    expect(redactObject(cyclic)).toEqual({ name: 'n', self: '[Circular]', list: ['[Circular]'] });

    let deep: Record<string, unknown> = { leaf: true };
    for (let index = 0; index < 20; index += 1) deep = { next: deep };
    expect(JSON.stringify(redactObject(deep))).toContain('[Truncated]');

    const policy = createRedactionPolicy({ limits: { maxArrayLength: 3, maxKeys: 2 } });
    expect(redactObject([1, 2, 3, 4, 5], policy)).toEqual([1, 2, 3, '[+2 items]']);
    expect(redactObject({ a: 1, b: 2, c: 3, d: 4 }, policy)).toEqual({ a: 1, b: 2, '…': '[+2 keys]' });
  });

  it('handles errors, dates, buffers, maps, sets and __proto__ keys', () => {
    const error = new Error(`login failed for password = 'hunter2'`);
    const copied = redactObject({ error }) as unknown as { error: { name: string; message: string; stack: string } };
    expect(copied.error.name).toBe('Error');
    expect(copied.error.message).toBe(`login failed for password = '[REDACTED]'`);
    expect(copied.error.stack).not.toContain('hunter2');
    const when = new Date(0);
    expect(redactObject({ when }).when).toEqual(when);
    expect(redactObject({ data: Buffer.from('secret') })).toEqual({ data: '[Binary 6 bytes]' });
    expect(redactObject(new Map([['password', 'x'], ['a', 'b']]))).toEqual(new Map([['password', '[REDACTED]'], ['a', 'b']]));
    expect(redactObject(new Set(['4111 1111 1111 1111']))).toEqual(new Set(['[REDACTED:card]']));
    const polluted = redactObject(JSON.parse('{"__proto__": {"isAdmin": true}}') as Record<string, unknown>);
    expect(Object.keys(polluted)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('property: never throws on any JSON-like value and returns the same shape of keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = redactObject(value);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          expect(Object.keys(copy as object).length).toBeLessThanOrEqual(Object.keys(value).length + 1);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('redactTokenPayload', () => {
  it('takes the password hash, TOTP secret and deluxe token out of a Juice Shop payload', () => {
    const payload = { ...JUICE_SHOP_PAYLOAD, data: { ...JUICE_SHOP_PAYLOAD.data, deluxeToken: 'dx-abc' } };
    const redacted = redactTokenPayload(payload) as { data: Record<string, unknown>; bid: number };
    expect(redacted.data.password).toBe('[REDACTED]');
    expect(redacted.data.totpSecret).toBe('[REDACTED]');
    expect(redacted.data.deluxeToken).toBe('[REDACTED]');
    expect(redacted.data.email).toBe('admin@juice-sh.op');
    expect(redacted.bid).toBe(1);
  });

  it('also takes digests under innocent keys', () => {
    expect(redactTokenPayload({ data: { hash: ADMIN_MD5, h: ADMIN_MD5.toUpperCase() }, sub: 'x' })).toEqual({
      data: { hash: '[REDACTED:digest]', h: '[REDACTED:digest]' },
      sub: 'x',
    });
  });
});

describe('redactUrl', () => {
  it('redacts sensitive query keys whatever the encoding of the key', () => {
    expect(redactUrl('/a?Password=x&API%5FKEY=y&q=ok')).toBe('/a?Password=[REDACTED]&API%5FKEY=[REDACTED]&q=ok');
    expect(redactUrl('/a?user%5Bpassword%5D=x')).toBe('/a?user%5Bpassword%5D=[REDACTED]');
  });

  it('keeps the path and redacts secrets found in it by value', () => {
    expect(redactUrl('/rest/basket/1/checkout')).toBe('/rest/basket/1/checkout');
    expect(redactUrl(`/reset/${tokens.rs256}/confirm`)).toBe('/reset/[REDACTED:jwt]/confirm');
    expect(redactUrl('/pay/4111%201111%201111%201111')).toBe('/pay/[REDACTED:card]');
    expect(redactUrl('/x;jsessionid=ABC123?y=1')).toBe('/x;jsessionid=[REDACTED]?y=1');
  });

  it('redacts the userinfo password of an absolute URL and token fragments', () => {
    expect(redactUrl('https://admin:admin123@juice-sh.op/#/login')).toBe('https://admin:[REDACTED]@juice-sh.op/#/login');
    expect(redactUrl('https://app/cb#access_token=abc&state=1')).toBe('https://app/cb#access_token=[REDACTED]&state=1');
  });

  it('re-encodes a value redacted after decoding', () => {
    expect(redactUrl('/a?q=Bearer%20abcdEFGH1234%20tail')).toBe('/a?q=[REDACTED:bearer]%20tail');
  });

  it('redactQuery leaves keys without values and empty values alone', () => {
    expect(redactQuery('password&token=&a=1')).toBe('password&token=&a=1');
  });

  it('property: never throws on any web URL; a web path without key/value pairs comes back the same', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        expect(typeof redactUrl(url)).toBe('string');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      // Without `=` or `:` a path has no key/value pair (`/x;pw=1` rightly loses its value).
      fc.property(fc.webPath().filter((path) => !/[=:]/.test(path)), (path) => {
        expect(redactUrl(path)).toBe(path);
      }),
      { numRuns: 500 },
    );
  });
});
