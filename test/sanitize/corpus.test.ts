/**
 * Redaction corpus: real-looking secrets embedded in bodies, URLs, headers, stack traces and SQL errors
 * must not survive; ordinary values that merely look a bit like them must survive untouched.
 */
import fc from 'fast-check';
import type { AuditEvent } from '../../src/events';
import {
  luhnValid,
  redactObject,
  redactString,
  redactTokenPayload,
  redactUrl,
  sanitizeEvent,
  toJsonLine,
} from '../../src/sanitize';
import { ADMIN_MD5, CARDS, JUICE_SHOP_PAYLOAD, digitsOf, makeTokens } from './secrets';

const tokens = makeTokens();

interface Secret {
  name: string;
  /** As it appears in traffic. */
  text: string;
  /** Pieces that must not appear in any output. */
  material: string[];
}

function jwtMaterial(token: string): string[] {
  const [, payload, signature] = token.split('.');
  return signature.length > 0 ? [token, payload, signature] : [token, payload];
}

const basicCredentials = Buffer.from('admin@juice-sh.op:admin123').toString('base64');

const SECRETS: Secret[] = [
  { name: 'RS256 JWT (Juice Shop shape)', text: tokens.rs256, material: jwtMaterial(tokens.rs256) },
  { name: 'HS256 JWT forged with the public key', text: tokens.hs256Forged, material: jwtMaterial(tokens.hs256Forged) },
  { name: 'unsigned alg:none JWT', text: tokens.unsigned, material: jwtMaterial(tokens.unsigned) },
  { name: 'Bearer JWT', text: `Bearer ${tokens.rs256}`, material: jwtMaterial(tokens.rs256) },
  { name: 'Bearer opaque token', text: 'Bearer sk_live_51HqLyjWDarjtT1zdp7dcXYZ', material: ['sk_live_51HqLyjWDarjtT1zdp7dcXYZ'] },
  { name: 'Basic credentials', text: `Basic ${basicCredentials}`, material: [basicCredentials] },
  {
    name: 'URL with a password',
    text: 'https://admin:OhG0dPlease1nsertLiquor!@db.internal:5432/juice',
    material: ['OhG0dPlease1nsertLiquor!'],
  },
  ...CARDS.map((card) => ({ name: `card ${card}`, text: card, material: [card, digitsOf(card)] })),
];

/** Free-text places a secret turns up in. */
const TEXT_CONTAINERS: Array<[string, (secret: string) => string]> = [
  ['alone', (s) => s],
  ['JSON body', (s) => JSON.stringify({ email: 'admin@juice-sh.op', comment: `see ${s} please`, quantity: 1 })],
  ['form body', (s) => `email=admin%40juice-sh.op&note=${s}&x=1`],
  ['header line', (s) => `X-Debug-Note: ${s}\r\nAccept: application/json`],
  [
    'stack trace',
    (s) =>
      `Error: Blocked illegal activity by ${s}\n    at /juice-shop/build/routes/changePassword.js:40:18\n` +
      '    at Layer.handle [as handle_request] (/juice-shop/node_modules/express/lib/router/layer.js:95:5)',
  ],
  ['SQL error', (s) => `SequelizeDatabaseError: SQLITE_ERROR: near "${s}": syntax error`],
  ['access log line', (s) => `127.0.0.1 - - [27/Nov/2026:19:37:04 +0000] "GET /api/x?q=${s} HTTP/1.1" 200 344 "-" "curl/7.88.1"`],
  ['between quotes and brackets', (s) => `['${s}'] ("${s}") <${s}>`],
  ['after a newline', (s) => `first line\n${s}\nlast line`],
];

function expectGone(output: string, secret: Secret): void {
  for (const piece of secret.material) expect(output).not.toContain(piece);
  if (/^[\d -]+$/.test(secret.text)) expect(output.replace(/[ -]/g, '')).not.toContain(digitsOf(secret.text));
}

describe('redaction corpus: secrets by value do not survive', () => {
  describe.each(SECRETS.map((secret) => [secret.name, secret] as const))('%s', (_name, secret) => {
    it.each(TEXT_CONTAINERS)('in free text: %s', (_container, wrap) => {
      expectGone(redactString(wrap(secret.text)), secret);
    });

    it('in a URL path, query and fragment (percent-encoded or not)', () => {
      const encoded = encodeURIComponent(secret.text);
      for (const url of [
        `/rest/track-order/${encoded}`,
        `/api/Products?q=${encoded}&sort=asc`,
        `/api/Products?q=${secret.text.replace(/ /g, '+')}`,
        `https://juice-sh.op/#/search?q=${encoded}`,
        `http://127.0.0.1:3000/redirect?to=${encoded}`,
      ]) {
        expectGone(redactUrl(url), secret);
        expectGone(decodeURIComponent(redactUrl(url).replace(/\+/g, ' ')), secret);
      }
    });

    it('in headers and bodies as objects, at any depth', () => {
      const request = {
        headers: { 'x-note': secret.text, 'user-agent': `curl/7.88.1 ${secret.text}` },
        body: { comment: secret.text, list: ['a', { deeper: [secret.text] }] },
        error: new Error(`failed with ${secret.text}`),
      };
      const copy = redactObject(request);
      expectGone(JSON.stringify(copy), secret);
      expect(request.body.comment).toBe(secret.text);
    });

    it('in every string field of an audit event, and in its JSON line', () => {
      const sanitized = sanitizeEvent(eventCarrying(secret.text));
      expectGone(JSON.stringify(sanitized), secret);
      expectGone(toJsonLine(sanitized), secret);
    });
  });

  it('a JWT glued to other text is found', () => {
    expect(redactString(`token:${tokens.rs256}`)).toBe('token:[REDACTED:jwt]');
    expect(redactString(`abc${tokens.unsigned}xyz`)).not.toContain(tokens.unsigned.split('.')[1]);
  });
});

function eventCarrying(secret: string): AuditEvent {
  return {
    type: 'sys_error',
    level: 'WARN',
    severity: 3,
    time: '2026-11-27T19:37:04.123Z',
    seq: 7,
    instance: '8f5c2a4e-6b1d-4a8e-9c1f-2d3e4f5a6b7c',
    app: 'juice-shop',
    host: 'lab',
    outcome: 'error',
    reason: `reason ${secret}`,
    description: `description ${secret}`,
    who: { userId: `u ${secret}`, ip: '127.0.0.1', forwardedFor: secret, userAgent: `agent ${secret}`, role: secret },
    where: {
      method: 'GET',
      route: `/rest/${secret}`,
      url: `/rest/x/${encodeURIComponent(secret)}?q=${encodeURIComponent(secret)}`,
      requestId: `r ${secret}`,
      status: 500,
    },
    detail: { note: secret, [`key ${secret}`]: 1, message: `Error: ${secret}` },
  };
}

describe('redaction corpus: sensitive keys', () => {
  const CANARY = 'CANARY-v4lue_9f8e';
  const KEYS = [
    'password', 'passwd', 'pwd', 'current', 'new', 'repeat', 'secret', 'answer', 'totp', 'totpSecret', 'token',
    'authorization', 'cookie', 'set-cookie', 'cardNum', 'card_number', 'cvv', 'cvc', 'apikey', 'api_key',
    'x-api-key', 'private_key', 'session', 'sessionId', 'newPassword', 'password_confirmation', 'securityAnswer',
    'tmpToken', 'access_token', 'x-auth-token', 'connect.sid',
  ];

  it.each(KEYS)('%s: value gone from objects, query strings and free text in every common spelling', (key) => {
    expect(JSON.stringify(redactObject({ outer: { [key]: CANARY }, list: [{ [key]: CANARY }] }))).not.toContain(CANARY);
    expect(JSON.stringify(redactObject({ [key]: 12345678 }))).not.toContain('12345678');
    expect(redactUrl(`/x?a=1&${encodeURIComponent(key)}=${CANARY}&b=2`)).not.toContain(CANARY);
    expect(redactUrl(`/x?user[${key}]=${CANARY}`)).not.toContain(CANARY);
    for (const text of [
      `${key}=${CANARY}&x=1`,
      `{"${key}":"${CANARY}"}`,
      `{"${key}": "${CANARY}", "x": 1}`,
      `${key}: ${CANARY}`,
      `${key} = '${CANARY}'`,
      `WHERE email = 'x' AND ${key} = '${CANARY}' AND deletedAt IS NULL`,
      `{'${key}': '${CANARY}'}`,
    ]) {
      expect(redactString(text)).not.toContain(CANARY);
    }
  });

  it('Juice Shop change-password query', () => {
    expect(redactUrl('/rest/user/change-password?current=admin123&new=ncc-1701&repeat=ncc-1701')).toBe(
      '/rest/user/change-password?current=[REDACTED]&new=[REDACTED]&repeat=[REDACTED]',
    );
  });

  it('Juice Shop login body, as object and as text', () => {
    const body = { email: 'admin@juice-sh.op', password: 'admin123' };
    expect(redactObject(body)).toEqual({ email: 'admin@juice-sh.op', password: '[REDACTED]' });
    expect(redactString(JSON.stringify(body))).toBe('{"email":"admin@juice-sh.op","password":"[REDACTED]"}');
  });

  it('Cookie and Set-Cookie header lines lose the whole value', () => {
    const text = `Cookie: language=en; token=${CANARY}; continueCode=abc\nSet-Cookie: token=${CANARY}; Path=/`;
    expect(redactString(text)).not.toContain(CANARY);
    expect(redactString(text)).toContain('\n');
  });

  it('the SQL error of a Juice Shop login loses the md5 of the password', () => {
    const sql = `SELECT * FROM Users WHERE email = ''' AND password = '${ADMIN_MD5}' AND deletedAt IS NULL`;
    expect(redactString(`SequelizeDatabaseError: SQLITE_ERROR: near "x": syntax error; sql: ${sql}`)).not.toContain(ADMIN_MD5);
    // The md5 without its key, as SQLite quotes an unrecognised token: digests go from event text.
    const event = eventCarrying('x');
    event.description = `SQLITE_ERROR: unrecognized token: "${ADMIN_MD5}"`;
    event.detail = { sql, message: `unrecognized token: "${ADMIN_MD5}"` };
    expect(JSON.stringify(sanitizeEvent(event))).not.toContain(ADMIN_MD5);
  });

  it('the Juice Shop JWT payload loses the password hash, TOTP secret and any digest', () => {
    const payload = { ...JUICE_SHOP_PAYLOAD, note: `hash ${ADMIN_MD5}`, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64) };
    const redacted = redactTokenPayload(payload);
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(ADMIN_MD5);
    expect(text).not.toContain(JUICE_SHOP_PAYLOAD.data.totpSecret);
    expect(text).not.toContain('a'.repeat(40));
    expect(text).not.toContain('b'.repeat(64));
    expect(redacted).toMatchObject({ bid: 1, data: { id: 1, email: 'admin@juice-sh.op', role: 'admin', isActive: true } });
  });
});

describe('negative corpus: ordinary values survive untouched', () => {
  const ORDINARY = [
    '4111111111111112',
    '5555555555554445',
    'order 1234567890123',
    'order #2024-1127-0001-9999',
    '5267-f9cd5882f54c75a3',
    'ts 1700000000000 and 1700000000000123',
    '550e8400-e29b-41d4-a716-446655440000',
    '12345678-1234-1234-1234-123456789012',
    '2026-11-27T19:37:04.123Z',
    '192.168.1.10, ::ffff:127.0.0.1, 2001:db8::1',
    'password reset requested for user 3',
    'The new session started; current user is admin',
    'Enter your password and answer the question',
    'token expired at 10:30:00',
    'the bearer of bad news',
    'basic information',
    'WWW-Authenticate: Basic realm="Juice Shop"',
    "admin@juice-sh.op'-- and ' OR 1=1--",
    "/rest/products/search?q=')) UNION SELECT id, email, password FROM Users--",
    'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
    'GET /rest/basket/1 HTTP/1.1',
    'v20.1.1 build 1234',
    'emailId 3f2a9b8c7d6e5f4a3b2c1d0e',
    'phone +1 555-123-4567',
    'eyJ is how a JWT starts',
    'at Object.login (/juice-shop/build/routes/login.js:50:10)',
  ];

  it.each(ORDINARY)('%s', (text) => {
    expect(redactString(text)).toBe(text);
  });

  it('URLs without secrets are returned as they are', () => {
    for (const url of ['/rest/basket/1', '/api/Products/1?d=Mon%20Nov%2027%202026', '/rest/products/search?q=apple+juice', 'https://juice-sh.op/#/login']) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it('property: UUIDs, ISO timestamps and epoch milliseconds (until 2096) are never redacted', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.date({ min: new Date(0), max: new Date('2095-12-31T23:59:59.999Z'), noInvalidDate: true }), (uuid, date) => {
        const text = `request ${uuid} at ${date.toISOString()} (${date.getTime()})`;
        expect(redactString(text)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: 13-19 digit numbers failing Luhn are never redacted', () => {
    const digits = fc.integer({ min: 13, max: 19 }).chain((length) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length }));
    fc.assert(
      fc.property(digits.filter((number) => !luhnValid(number)), (number) => {
        expect(redactString(`order ${number} placed`)).toBe(`order ${number} placed`);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: Luhn-valid 13-19 digit numbers starting 4, 5 or 6 are always redacted', () => {
    const body = fc.integer({ min: 12, max: 18 }).chain((length) =>
      fc.tuple(fc.constantFrom(...'456'), fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length - 1, maxLength: length - 1 })),
    );
    fc.assert(
      fc.property(body, ([first, rest]) => {
        const partial = first + rest;
        const check = [...'0123456789'].find((digit) => luhnValid(partial + digit)) as string;
        expect(redactString(`card ${partial + check} used`)).toBe('card [REDACTED:card] used');
      }),
      { numRuns: 1000 },
    );
  });
});
