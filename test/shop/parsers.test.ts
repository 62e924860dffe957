import crypto from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { discountFromCoupon, generateCoupon, z85Decode, z85Encode } from '../../src/shop/coupon';
import { parseJsonPairs } from '../../src/shop/json-pairs';
import { legacyDecode, legacyVerify } from '../../src/shop/legacy-jws';
import { testKeys } from './helpers';

describe('parseJsonPairs (the clarinet view of a raw body)', () => {
  test('keeps every duplicate in document order', () => {
    expect(parseJsonPairs('{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}')).toEqual([
      { key: 'ProductId', value: 7 }, { key: 'BasketId', value: '1' }, { key: 'quantity', value: 1 }, { key: 'BasketId', value: '2' },
    ]);
  });

  test('nested keys are listed too; a nested object leaves its key null', () => {
    expect(parseJsonPairs('{"a":{"b":true,"c":[1,2]},"d":null}')).toEqual([
      { key: 'a', value: null }, { key: 'b', value: true }, { key: 'c', value: 2 }, { key: 'd', value: null },
    ]);
  });

  test('escaped keys are decoded, so "Basket\\u0049d" is a BasketId', () => {
    expect(parseJsonPairs('{"Basket\\u0049d":"2"}')).toEqual([{ key: 'BasketId', value: '2' }]);
  });

  test('malformed JSON throws', () => {
    for (const text of ['{"a":', '{"a" 1}', '{a:1}', '{"a":1}x', '{"a":tru}']) {
      expect(() => parseJsonPairs(text)).toThrow();
    }
  });

  test('property: for objects of primitives, the pairs equal JSON.parse\'s entries', () => {
    const primitive = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    fc.assert(fc.property(fc.dictionary(fc.string().filter((key) => key !== '__proto__'), primitive), (object) => {
      const text = JSON.stringify(object);
      const pairs = parseJsonPairs(text);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      expect(pairs).toHaveLength(Object.keys(parsed).length);
      expect(Object.fromEntries(pairs.map(({ key, value }) => [key, value]))).toEqual(parsed);
    }));
  });
});

describe('coupons (Z85 of MMMYY-NN)', () => {
  test('property: Z85 round-trips any 4-byte-aligned buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }).filter((bytes) => bytes.length % 4 === 0), (bytes) => {
      const encoded = z85Encode(Buffer.from(bytes));
      expect(encoded).not.toBeNull();
      expect(z85Decode(encoded ?? '')).toEqual(Buffer.from(bytes));
    }));
  });

  test('the ZeroMQ reference vector', () => {
    expect(z85Encode(Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('HelloWorld');
  });

  test("a coupon is worth its discount in its own month only", () => {
    const november = new Date(2026, 10, 27);
    const coupon = generateCoupon(45, november);
    expect(discountFromCoupon(coupon, november)).toBe(45);
    expect(discountFromCoupon(coupon, new Date(2026, 11, 1))).toBeUndefined();
    expect(discountFromCoupon('garbage', november)).toBeUndefined();
  });
});

describe('legacy token verification (jws 0.2 semantics)', () => {
  const keys = testKeys();
  const token = jwt.sign({ data: { id: 1 }, bid: 1 }, keys.privateKeyPem, { algorithm: 'RS256' });

  test('a genuine RS256 token verifies; the payload is returned', () => {
    const result = legacyVerify(token, keys.publicKeyPem);
    expect(result.ok).toBe(true);
    expect(result.ok && result.payload).toMatchObject({ data: { id: 1 }, bid: 1 });
  });

  test('a token signed by another key does not', () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const forged = jwt.sign({ data: { id: 1 } }, other, { algorithm: 'RS256' });
    expect(legacyVerify(forged, keys.publicKeyPem)).toMatchObject({ ok: false, error: new Error('invalid signature') });
  });

  test('property: flipping any payload character breaks the signature', () => {
    const [header, payload, signature] = token.split('.');
    fc.assert(fc.property(fc.nat({ max: payload.length - 1 }), (index) => {
      const swapped = payload[index] === 'A' ? 'B' : 'A';
      const tampered = `${header}.${payload.slice(0, index)}${swapped}${payload.slice(index + 1)}.${signature}`;
      expect(legacyVerify(tampered, keys.publicKeyPem).ok).toBe(false);
    }), { numRuns: 50 });
  });

  test('decode returns null for anything that is not three base64url parts', () => {
    expect(legacyDecode('abc')).toBeNull();
    expect(legacyDecode(undefined)).toBeNull();
    expect(legacyDecode(token)?.header).toEqual({ alg: 'RS256', typ: 'JWT' });
  });
});
