import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import {
  createRedactionPolicy,
  luhnValid,
  redactDigests,
  redactJwts,
  redactPrivateKeys,
  redactString,
  redactUrlPasswords,
} from '../../src/sanitize';
import { anyString } from './arbitraries';
import { ADMIN_MD5, makeTokens } from './secrets';

const tokens = makeTokens();

describe('redactString by value', () => {
  it('labels each kind of secret', () => {
    expect(redactString(`t=${tokens.rs256};`)).toBe('t=[REDACTED:jwt];');
    expect(redactString('Authorization: Bearer abc.DEF-123_xyz~+/==')).toBe('Authorization: [REDACTED:bearer]');
    expect(redactString(`Authorization: Basic ${Buffer.from('jim@juice-sh.op:ncc-1701').toString('base64')}`)).toBe('Authorization: [REDACTED:basic]');
    expect(redactString('paid with 5555-5555-5555-4444.')).toBe('paid with [REDACTED:card].');
    expect(redactString('mysql://root:toor@127.0.0.1/db')).toBe('mysql://root:[REDACTED]@127.0.0.1/db');
  });

  it('finds unsigned alg:none tokens (empty signature)', () => {
    expect(redactString(`Bearer-less ${tokens.unsigned} end`)).toBe('Bearer-less [REDACTED:jwt] end');
    expect(redactJwts(`${tokens.unsigned}`)).toBe('[REDACTED:jwt]');
  });

  it('does not take a dotted word starting eyJ without a payload for a JWT', () => {
    expect(redactJwts('eyJ. and eyJabc. and eyJabc.def')).toBe('eyJ. and eyJabc. and eyJabc.def');
  });

  it('returns the very same string when there is nothing to redact', () => {
    const text = 'GET /rest/basket/1 from 127.0.0.1 took 12 ms';
    expect(redactString(text)).toBe(text);
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(tokens.rs256, 'Bearer abcdEFGH1234', '4111 1111 1111 1111', 'password=x', 'https://u:p@h/', `p='${ADMIN_MD5}'`),
        anyString,
        (secret, noise) => {
          const once = redactString(`${noise} ${secret} ${noise}`, undefined, { digests: true });
          expect(redactString(once, undefined, { digests: true })).toBe(once);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on any input', () => {
    fc.assert(
      fc.property(anyString, (text) => {
        const out = redactString(text);
        expect(typeof out).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('the URL password keeps the user and takes everything up to the last @ of the authority', () => {
    expect(redactUrlPasswords('redis://:hunter2@cache:6379')).toBe('redis://:[REDACTED]@cache:6379');
    expect(redactUrlPasswords('https://a:p@ss@w0rd@host/x?y=a@b')).toBe('https://a:[REDACTED]@host/x?y=a@b');
    expect(redactUrlPasswords('https://host:8080/path@x')).toBe('https://host:8080/path@x');
    expect(redactUrlPasswords('git@github.com:x/y')).toBe('git@github.com:x/y');
  });

  it('keys in free text: quoted, unquoted, JSON, SQL, header lines, form fields, two-word keys', () => {
    expect(redactString('{"password":"a\\"b","x":1}')).toBe('{"password":"[REDACTED]","x":1}');
    expect(redactString("AND password = 'x' AND")).toBe("AND password = '[REDACTED]' AND");
    expect(redactString('user[password]=abc&user[email]=a@b')).toBe('user[password]=[REDACTED]&user[email]=a@b');
    expect(redactString('card number: 12345678 ok')).toBe('card number: [REDACTED] ok');
    expect(redactString('private key: abc')).toBe('private key: [REDACTED]');
    expect(redactString('Set-Cookie: token=abc; Path=/; HttpOnly\r\nX: y')).toBe('Set-Cookie: [REDACTED]\r\nX: y');
    expect(redactString('answer:42 rest')).toBe('answer:[REDACTED] rest');
    expect(redactString('password=')).toBe('password=');
  });

  it('a value already labelled keeps its label', () => {
    expect(redactString(`token=${tokens.rs256}`)).toBe('token=[REDACTED:jwt]');
    expect(redactString('Authorization: Bearer abcdEFGH1234')).toBe('Authorization: [REDACTED:bearer]');
  });

  it('Basic needs base64 of user:password, so prose and realms survive', () => {
    expect(redactString('Basic realm="x"')).toBe('Basic realm="x"');
    expect(redactString('basic information')).toBe('basic information');
    expect(redactString('Basic dGVzdA==')).toBe('Basic dGVzdA==');
  });

  it('PEM private keys go whole, public keys stay', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const body = pem.split('\n')[1];
    expect(redactString(`key:\n${pem}\nend`)).toBe('key:\n[REDACTED:private-key]\n\nend');
    expect(redactPrivateKeys(`${pem.slice(0, 60)}`)).toBe('[REDACTED:private-key]');
    expect(redactString(pub)).toBe(pub);
    expect(redactString(`x ${pem}`)).not.toContain(body);
  });

  it('digests only where asked, 32/40/64 hex standing alone', () => {
    expect(redactString(`hash ${ADMIN_MD5}`)).toBe(`hash ${ADMIN_MD5}`);
    expect(redactString(`hash ${ADMIN_MD5}`, undefined, { digests: true })).toBe('hash [REDACTED:digest]');
    expect(redactDigests(`${'a'.repeat(40)} ${'b'.repeat(64)} ${'c'.repeat(33)} ${'d'.repeat(24)} x${'e'.repeat(32)}`)).toBe(
      `[REDACTED:digest] [REDACTED:digest] ${'c'.repeat(33)} ${'d'.repeat(24)} x${'e'.repeat(32)}`,
    );
    const everywhere = createRedactionPolicy({ values: { digestsEverywhere: true } });
    expect(redactString(`hash ${ADMIN_MD5}`, everywhere)).toBe('hash [REDACTED:digest]');
  });

  it('rules can be turned off by policy', () => {
    const noCards = createRedactionPolicy({ values: { card: false } });
    expect(redactString('4111 1111 1111 1111', noCards)).toBe('4111 1111 1111 1111');
    const noText = createRedactionPolicy({ values: { keyValueText: false } });
    expect(redactString('password=x1', noText)).toBe('password=x1');
    const custom = createRedactionPolicy({ replacement: '***' });
    expect(redactString('pin=1234', custom)).toBe('pin=***');
  });
});

describe('Luhn', () => {
  it('accepts PSP test numbers and rejects a changed digit', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('property: exactly one check digit completes any number', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 12, maxLength: 18 }), (partial) => {
        expect([...'0123456789'].filter((digit) => luhnValid(partial + digit))).toHaveLength(1);
      }),
    );
  });

  it('cards glued to letters, in UUID-like groupings or beside other digits are not cards', () => {
    expect(redactString('id4111111111111111')).toBe('id4111111111111111');
    expect(redactString('4111111111111111x')).toBe('4111111111111111x');
    expect(redactString('41111111111111110')).toBe('41111111111111110');
    expect(redactString('1111-4111-111111111111')).toBe('1111-4111-111111111111');
    expect(redactString('order 12 4111 1111 1111 1111 ok')).toBe('order 12 [REDACTED:card] ok');
  });
});
