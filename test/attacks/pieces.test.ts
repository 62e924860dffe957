import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { parseTargetSpec } from '../../src/attacks';
import type { AttackResponse } from '../../src/attacks/http';
import { SourceAddressPlan, isLoopbackV4 } from '../../src/attacks/source-address';
import { leaksIn } from '../../src/attacks/scenarios/error-leakage';
import type { TargetRun } from '../../src/attacks';
import { canaryCard, publicKeyOf } from '../../src/attacks/scenarios/juice';
import { forgedLines, hasRawControls, injectionPayloads } from '../../src/attacks/scenarios/log-injection';
import { markersIn } from '../../src/attacks/scenarios/markers';
import { findSecrets, logLines, varied } from '../../src/attacks/sinks';
import { isLabAddress } from '../../src/attacks/tools';
import { StubClient, rawRecord } from './fakes';

const answer = (text: string): AttackResponse => ({ status: 500, text, contentType: 'text/html', headers: new Headers() });

describe('parseTargetSpec', () => {
  it('takes an optional kind and a base URL', () => {
    expect(parseTargetSpec('http://127.0.0.1:3000/')).toEqual({ url: 'http://127.0.0.1:3000' });
    expect(parseTargetSpec('fixed=http://shop-fixed:3000/juice/')).toEqual({ url: 'http://shop-fixed:3000/juice', kind: 'fixed' });
    expect(parseTargetSpec('NAIVE=https://[::1]:8443')).toEqual({ url: 'https://[::1]:8443', kind: 'naive' });
  });

  it.each(['', 'shop:3000', 'ftp://x', 'evil=http://x', 'http://x/?a=1', 'http://x/#frag'])('refuses %j', (text) => {
    expect(() => parseTargetSpec(text)).toThrow(/--target/);
  });
});

describe('error leaks in answers', () => {
  it('finds the stack, the SQL, the path and the error class Juice Shop shows', () => {
    const stock = answer('SequelizeDatabaseError: SQLITE_ERROR: unrecognized token: "\'\'\' AND password"\n    at Database.<anonymous> (/juice-shop/node_modules/sequelize/lib/dialects/sqlite/query.js:185:27)');
    expect(leaksIn(stock).map((l) => l.what)).toEqual(['stack trace', 'SQL', 'server path']);
    expect(leaksIn(answer('{"error":{"message":"SyntaxError: Unexpected end of JSON input"}}')).map((l) => l.what)).toEqual(['error class']);
  });

  it('finds nothing in the generic replies', () => {
    for (const text of [
      '500 Internal Server Error (incident 6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f)\n',
      '{"error":{"message":"Internal Server Error","status":500,"incidentId":"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"}}',
      '<!DOCTYPE html><html><head><title>OWASP Juice Shop (Express 4.22.1)</title></head><body><h1>500 Internal Server Error</h1><p>Incident <code>6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f</code>.</p></body></html>',
    ]) {
      expect(leaksIn(answer(text))).toEqual([]);
    }
  });
});

describe('log injection detection', () => {
  const nonce = 'ab12cd34ef';
  const payloads = injectionPayloads(nonce);

  it('finds a forged line after every kind of line break, behind ANSI sequences too', () => {
    for (const separator of ['\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085']) {
      const text = `warn: Failed login for a09-${nonce}${separator}\u001b[1A\u001b[2K${payloads.forged[0]}`;
      expect(forgedLines([{ sink: 's', text }], payloads.forged, nonce)).toEqual([expect.objectContaining({ sink: 's, line 2', what: 'forged record' })]);
    }
  });

  it('does not take escaped or mid-line payloads for records', () => {
    const inert = [
      `warn: Failed login for a09-${nonce}\\r\\n${payloads.forged[0]}`,
      `{"email":"a09-${nonce}\\n${payloads.forged[1]}"}`,
      'info: User admin@juice-sh.op logged in',
    ];
    expect(forgedLines(inert.map((text) => ({ sink: 's', text })), payloads.forged, nonce)).toEqual([]);
  });

  it('tells raw control characters from their escapes', () => {
    expect(hasRawControls(rawRecord('a\nb'))).toBe(true);
    expect(hasRawControls(rawRecord('a\u2028b'))).toBe(true);
    expect(hasRawControls(rawRecord('a\\nb \\u2028 \\x1b[2J'))).toBe(false);
    expect(hasRawControls(rawRecord('tab\tok'))).toBe(false);
  });

  it('splits lines the way log viewers do', () => {
    expect(logLines('a\r\nb\rc\nd\u2028e\u2029f\u0085g')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });
});

describe('secrets', () => {
  it('finds each secret in each sink, and reports every kind before repeats', () => {
    const leaks = findSecrets(
      [{ sink: 'one', text: 'pw=hunter2 token=abc.def' }, { sink: 'two', text: 'hunter2 again, card 4000001234567899' }],
      [{ what: 'password', value: 'hunter2' }, { what: 'token', value: 'abc.def' }, { what: 'card', value: '4000001234567899' }, { what: 'empty', value: '' }],
    );
    expect(leaks.map((l) => `${l.sink}:${l.what}`)).toEqual(['one:password', 'one:token', 'two:password', 'two:card']);
    expect(varied(leaks, 3).map((l) => l.what)).toEqual(['password', 'token', 'card']);
  });

  it('makes canary card numbers that pass the Luhn check (what redaction looks for)', () => {
    const luhn = (digits: string): boolean =>
      [...digits].reverse().reduce((sum, char, i) => {
        let d = Number(char);
        if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        return sum + d;
      }, 0) % 10 === 0;
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{10}$/), (nonce) => {
      const card = canaryCard(nonce);
      return /^4\d{15}$/.test(card) && luhn(card);
    }));
  });
});

describe('markers', () => {
  it('tells -1 from -10', () => {
    const records = [rawRecord('GET /rest/products/search?q=m-10 {"q":"m-10"}'), rawRecord('GET /rest/products/search?q=m-2')];
    expect([...markersIn(records, 'm', 11)].sort((a, b) => a - b)).toEqual([2, 10]);
  });
});

describe('addresses', () => {
  it('gives each scenario and target its own loopback address', () => {
    const plan = new SourceAddressPlan(() => 0.5);
    expect(plan.address(0, 0)).toBe('127.128.0.10');
    expect(plan.address(3, 2)).toBe('127.128.3.12');
    expect(isLoopbackV4(plan.address(14, 2))).toBe(true);
    expect(isLoopbackV4('localhost')).toBe(false);
  });

  it('runs real tools only against loopback and private addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.9', '172.31.255.1', '192.168.1.1', '::1', 'fd00::1', '::ffff:127.0.0.1']) expect(isLabAddress(address)).toBe(true);
    for (const address of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:db8::1', '::ffff:1.1.1.1']) expect(isLabAddress(address)).toBe(false);
  });
});

describe('the public key for the RS256 -> HS256 confusion', () => {
  const keyRun = (pem: string | undefined, labPem?: string): TargetRun =>
    ({
      http: new StubClient((_method, path) => (path === '/encryptionkeys/jwt.pub' && pem !== undefined ? { status: 200, text: pem } : { status: 404 })),
      target: { lab: labPem === undefined ? undefined : { publicKeyPem: labPem } },
    }) as unknown as TargetRun;
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });

  it('takes the key a target serves, in Juice Shop v20\'s PKCS#1 form as in SPKI form', async () => {
    const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(pkcs1).toMatch(/BEGIN RSA PUBLIC KEY/);
    await expect(publicKeyOf(keyRun(pkcs1))).resolves.toEqual({ pem: pkcs1, from: 'GET /encryptionkeys/jwt.pub' });
    await expect(publicKeyOf(keyRun(spki))).resolves.toEqual({ pem: spki, from: 'GET /encryptionkeys/jwt.pub' });
  });

  it('falls back to the key the lab knows, and to none', async () => {
    await expect(publicKeyOf(keyRun('<html>not a key</html>', 'LAB-PEM'))).resolves.toEqual({ pem: 'LAB-PEM', from: 'the lab' });
    await expect(publicKeyOf(keyRun(undefined))).resolves.toBeUndefined();
  });
});
