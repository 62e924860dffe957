import fc from 'fast-check';
import {
  EVENT_TYPES,
  EventSchemaError,
  EventSource,
  VOCABULARY,
  eventProblems,
  isIsoUtcMs,
  maskEmail,
  pseudonymiseEmail,
  type AuditEvent,
  type EventInput,
} from '../../src/events';

const request = {
  who: { ip: '127.0.0.1' },
  where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: 'req-0001' },
};

describe('EventSource', () => {
  it('stamps time, seq, instance, app, host and the type defaults', () => {
    const source = new EventSource({ app: 'juice-shop', host: 'shop-1', hmacKey: 'k' });
    const at = new Date('2026-11-27T19:37:04.005Z');
    const event = source.create({ type: 'authn_login_fail', outcome: 'failure', reason: 'bad credentials', email: 'jim@juice-sh.op', at, ...request });
    expect(event).toMatchObject({
      type: 'authn_login_fail',
      level: 'WARN',
      severity: 4,
      time: '2026-11-27T19:37:04.005Z',
      seq: 1,
      app: 'juice-shop',
      host: 'shop-1',
      outcome: 'failure',
      reason: 'bad credentials',
      who: { ip: '127.0.0.1', emailMasked: 'j**@juice-sh.op', emailId: pseudonymiseEmail('jim@juice-sh.op', 'k') },
    });
    expect(event.instance).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(event)).not.toContain('jim@juice-sh.op');
  });

  it('numbers events strictly increasing from 1, and an incomplete event takes no seq', () => {
    const source = new EventSource();
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      seqs.push(source.create({ type: 'sys_heartbeat', outcome: 'info' }).seq);
      expect(() => source.create({ type: 'authn_login_fail', outcome: 'failure' })).toThrow(EventSchemaError);
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(source.lastSeq).toBe(5);
  });

  it('continues a restored source after its last seq', () => {
    const source = new EventSource({ instance: 'fixed-instance', lastSeq: 41 });
    expect(source.create({ type: 'sys_startup', outcome: 'info' })).toMatchObject({ seq: 42, instance: 'fixed-instance' });
  });

  it('lets a caller raise the severity of one event', () => {
    const source = new EventSource();
    const event = source.create({ type: 'malicious_sqli', outcome: 'success', severity: 1, level: 'CRITICAL', ...request });
    expect(event.severity).toBe(1);
  });

  it('identifies an email the same way every time, past its remembered ones, and a caller cannot change that', () => {
    const source = new EventSource({ hmacKey: 'k' });
    const expected = (email: string) => ({ emailId: pseudonymiseEmail(email, 'k'), emailMasked: maskEmail(email) });
    const first = source.identify('Jim@Juice-sh.op');
    first.emailId = 'tampered';
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1500; i++) expect(source.identify(`user${i}@juice-sh.op`)).toEqual(expected(`user${i}@juice-sh.op`));
    }
    expect(source.identify('Jim@Juice-sh.op')).toEqual(expected('jim@juice-sh.op'));
    const long = `${'x'.repeat(300)}@juice-sh.op`;
    expect(source.identify(long)).toEqual(source.identify(long));
    expect(source.create({ type: 'authn_login_fail', outcome: 'failure', email: 'Jim@Juice-sh.op', ...request }).who).toMatchObject(expected('jim@juice-sh.op'));
  });

  it("copies who's fields into the event: its own object, only what a Who holds, the email's identity over a given one", () => {
    const source = new EventSource({ hmacKey: 'k' });
    const who = { ip: '10.0.0.1', forwardedFor: '1.2.3.4', userAgent: 'curl/8', userId: '7', role: 'admin', emailId: 'given', emailMasked: 'g**@x', extra: 'dropped' } as EventInput['who'];
    const plain = source.create({ type: 'http_request', outcome: 'success', ...request, who });
    const known = Object.fromEntries(Object.entries(who as Record<string, string>).filter(([key]) => key !== 'extra'));
    expect(plain.who).toEqual(known);
    expect(Object.keys(plain.who)).not.toContain('extra');
    expect(plain.who).not.toBe(who);
    plain.who.ip = 'changed';
    expect(who?.ip).toBe('10.0.0.1');
    const withEmail = source.create({ type: 'authn_login_fail', outcome: 'failure', email: 'jim@juice-sh.op', ...request, who });
    expect(withEmail.who).toEqual({ ...known, emailId: pseudonymiseEmail('jim@juice-sh.op', 'k'), emailMasked: 'j**@juice-sh.op' });
    expect(source.create({ type: 'sys_heartbeat', outcome: 'info' }).who).toEqual({});
    // Absent fields are absent, not undefined-valued keys.
    expect(Object.keys(source.create({ type: 'http_request', outcome: 'success', ...request }).who)).toEqual(['ip']);
  });

  it('gives two sources different instances', () => {
    expect(new EventSource().instance).not.toBe(new EventSource().instance);
  });
});

describe('completeness (CWE-223)', () => {
  const source = new EventSource({ hmacKey: 'k' });

  it.each([
    ['who.ip', { ...request, who: {} }],
    ['where.method', { ...request, where: { ...request.where, method: undefined } }],
    ['where.requestId', { ...request, where: { ...request.where, requestId: '' } }],
    ['where.url and where.route', { ...request, where: { method: 'GET', requestId: 'r-1' } }],
  ])('refuses a request event without %s', (missing, parts) => {
    const input = { type: 'http_request', outcome: 'success', ...parts } as EventInput;
    expect(() => source.create(input)).toThrow(new RegExp(missing.replace('.', '\\.')));
  });

  it('refuses an account event that names no account', () => {
    expect(() => source.create({ type: 'authz_fail', outcome: 'allowed', ...request })).toThrow(/who\.userId and who\.emailId/);
  });

  it('accepts every type when everything is there', () => {
    for (const type of EVENT_TYPES) {
      const event = source.create({ type, outcome: 'info', email: 'a@b.c', ...request });
      expect(eventProblems(event)).toEqual([]);
      expect(event.severity).toBe(VOCABULARY[type].severity);
    }
  });

  it('finds what is wrong with a tampered event', () => {
    const event = source.create({ type: 'sys_startup', outcome: 'info' });
    const broken = { ...event, time: '27/Nov/2026:19:37:04 +0000', seq: 0, host: '' } as AuditEvent;
    expect(eventProblems(broken)).toEqual(
      expect.arrayContaining(['time is not ISO 8601 UTC with milliseconds', 'seq is not a positive integer', 'host is missing']),
    );
    expect(eventProblems({ ...event, type: 'nope' } as unknown as AuditEvent)).toEqual(['unknown type nope']);
  });
});

describe('isIsoUtcMs', () => {
  const pad = (value: number, width: number): string => String(value).padStart(width, '0');
  // The oracle: a time names a real instant when the Date it parses to prints back as the same text.
  const roundTrips = (text: string): boolean => !Number.isNaN(Date.parse(text)) && new Date(text).toISOString() === text;

  it('takes exactly the times that round-trip through Date, edges included', () => {
    const time = fc
      .tuple(
        fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(1900, 2000, 2024, 2025, 2100, 2400)),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 999 }),
      )
      .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
    fc.assert(
      fc.property(time, (text) => {
        expect(isIsoUtcMs(text)).toBe(roundTrips(text));
      }),
      { numRuns: 20000 },
    );
  });

  it('refuses what Date.parse lets through and every other shape', () => {
    expect(isIsoUtcMs('2026-11-28T05:33:11.123Z')).toBe(true);
    expect(isIsoUtcMs('2024-02-29T23:59:59.999Z')).toBe(true);
    // Date.parse rolls these over (3 March, the next midnight); the event would carry a time that never was.
    expect(Number.isNaN(Date.parse('2026-02-31T00:00:00.000Z'))).toBe(false);
    expect(isIsoUtcMs('2026-02-31T00:00:00.000Z')).toBe(false);
    expect(isIsoUtcMs('2025-02-29T00:00:00.000Z')).toBe(false);
    expect(isIsoUtcMs('2026-04-31T00:00:00.000Z')).toBe(false);
    expect(isIsoUtcMs('2026-01-01T24:00:00.000Z')).toBe(false);
    for (const other of ['2026-11-28T05:33:11Z', '2026-11-28T05:33:11.123+00:00', ' 2026-11-28T05:33:11.123Z', '２０２６-11-28T05:33:11.123Z', '', 1764308000000, null]) {
      expect(isIsoUtcMs(other)).toBe(false);
    }
  });

  it('is what eventProblems checks the time with', () => {
    const event = new EventSource({ app: 'a', host: 'h', hmacKey: 'k' }).create({ type: 'sys_startup', outcome: 'info' });
    expect(eventProblems({ ...event, time: '2026-02-31T00:00:00.000Z' })).toEqual(['time is not ISO 8601 UTC with milliseconds']);
  });
});

describe('identities', () => {
  it('masks addresses and non-addresses', () => {
    expect(maskEmail('jim@juice-sh.op')).toBe('j**@juice-sh.op');
    expect(maskEmail(' Admin@Juice-sh.op ')).toBe('a**@juice-sh.op');
    expect(maskEmail("' OR 1=1--")).toBe("'**");
    expect(maskEmail('')).toBe('(empty)');
  });

  it('does not let attacker text after the @ pass for a domain', () => {
    expect(maskEmail('a@juice-sh.op logged in [a09-lab]')).toBe('a**@**');
    expect(maskEmail('x@juice-sh.op\nfake line')).toBe('x**@**');
    expect(maskEmail('x@-bad.example')).toBe('x**@**');
    expect(maskEmail('bender@juice-sh.op')).toBe('b**@juice-sh.op');
  });

  it('pseudonymises case- and space-insensitively, differently under another key', () => {
    expect(pseudonymiseEmail('Jim@Juice-sh.op ', 'k')).toBe(pseudonymiseEmail('jim@juice-sh.op', 'k'));
    expect(pseudonymiseEmail('jim@juice-sh.op', 'k')).not.toBe(pseudonymiseEmail('jim@juice-sh.op', 'other'));
  });

  it('never reveals the local part beyond its first character', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 2, maxLength: 30 }).filter((s) => !s.includes('@') && s.trim().length > 1), (local) => {
        const masked = maskEmail(`${local}@example.org`);
        expect(masked.endsWith('@example.org')).toBe(true);
        expect(masked.length).toBeLessThanOrEqual(Array.from(local.trim().toLowerCase())[0].length + 2 + '@example.org'.length);
        expect(pseudonymiseEmail(`${local}@example.org`, 'k')).toMatch(/^[0-9a-f]{24}$/);
      }),
    );
  });
});
