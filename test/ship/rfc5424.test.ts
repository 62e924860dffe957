import fc from 'fast-check';
import { EventSource, type AuditEvent } from '../../src/events';
import { hasUnsafeChars, neutralise, unescapeNeutralised } from '../../src/sanitize';
import { AUDIT_SD_ID, formatRfc5424 } from '../../src/ship/rfc5424';
import { frameOctetCounted, parseOctetCounted } from '../../src/ship/framing';
import { httpInput } from './helpers';
import { parseRfc5424, sdParams } from './rfc5424-parser';

const source = new EventSource({ app: 'juice-shop', host: 'shop-1', hmacKey: 'test-key', instance: '4f1c2a9e-0000-4000-8000-000000000001' });

/** Raw separators and controls that must never reach the wire. */
const RAW_BREAKERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('formatRfc5424', () => {
  it('writes the header, SD elements and JSON MSG of the brief exactly', () => {
    const event = source.create(
      httpInput({
        type: 'authn_login_fail',
        outcome: 'failure',
        reason: 'bad_password',
        email: 'jim@juice-sh.op',
        who: { ip: '10.0.0.7', userId: '2' },
        where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', requestId: 'r-77', status: 401 },
        at: new Date('2025-01-02T03:04:05.006Z'),
      }),
    );
    const line = formatRfc5424(event, { procId: '4242' });
    const sd =
      `[${AUDIT_SD_ID} instance="${event.instance}" level="WARN" outcome="failure" reason="bad_password" userId="2" ` +
      `emailId="${event.who.emailId}" emailMasked="j**@juice-sh.op" ip="10.0.0.7" method="POST" route="/rest/user/login" ` +
      `url="/rest/user/login" requestId="r-77" status="401"][meta sequenceId="${event.seq}"]`;
    // facility 13 (log audit) * 8 + severity 4 (warning) = 108
    expect(line).toBe(`<108>1 2025-01-02T03:04:05.006Z shop-1 juice-shop 4242 authn_login_fail ${sd} ${line.slice(line.indexOf('] {') + 2)}`);
    const parsed = parseRfc5424(line);
    expect(parsed).toMatchObject({ facility: 13, severity: 4, version: 1, hostname: 'shop-1', appName: 'juice-shop', procId: '4242', msgId: 'authn_login_fail' });
    expect(JSON.parse(parsed.msg!)).toEqual(event);
  });

  it('omits absent fields, defaults PROCID to the pid, honours the facility', () => {
    const event = source.create({ type: 'sys_startup', outcome: 'info' });
    const parsed = parseRfc5424(formatRfc5424(event, { facility: 16 }));
    expect(parsed.pri).toBe(16 * 8 + 5);
    expect(parsed.procId).toBe(String(process.pid));
    expect(sdParams(parsed, AUDIT_SD_ID)).toEqual({ instance: event.instance, level: 'WARN', outcome: 'info' });
    expect(sdParams(parsed, 'meta')).toEqual({ sequenceId: String(event.seq) });
    expect(() => formatRfc5424(event, { facility: 24 })).toThrow(RangeError);
  });

  it('keeps a forged header, "] and line breaks inside their PARAM-VALUE and MSG', () => {
    const forged = 'x"] <13>1 2025-01-01T00:00:00.000Z evil forged - - [a09@32473 level="INFO"] {"seq":1}\n<14>1 - - - - - -';
    const event = source.create(
      httpInput({ reason: forged, where: { method: 'GET', url: `/a\r\nb\u2028c\u001b[31m`, requestId: 'r"]\\', route: '/a' } }),
    );
    const line = formatRfc5424(event);
    expect(line).not.toMatch(RAW_BREAKERS);
    const parsed = parseRfc5424(line);
    expect(parsed.sd.map((element) => element.id)).toEqual([AUDIT_SD_ID, 'meta']);
    const params = sdParams(parsed, AUDIT_SD_ID)!;
    expect(unescapeNeutralised(params.reason)).toBe(forged);
    expect(unescapeNeutralised(params.url)).toBe('/a\r\nb\u2028c\u001b[31m');
    // No control character in it: only RFC-escaped, and the parser gives it back as it was.
    expect(params.requestId).toBe('r"]\\');
    const fromMsg = JSON.parse(parsed.msg!) as AuditEvent;
    expect(unescapeNeutralised(fromMsg.reason!)).toBe(forged);
    expect(fromMsg.seq).toBe(event.seq);
  });

  it('property: any field content gives one well-formed line whose fields decode to the neutralised input', () => {
    const text = fc.string({ unit: 'binary', maxLength: 300 });
    fc.assert(
      fc.property(text, text, text, text, text, text, (host, app, reason, url, ua, detail) => {
        const event: AuditEvent = {
          ...source.create(httpInput({ reason, where: { method: 'GET', url, requestId: 'r', route: '/x' }, who: { ip: '1.2.3.4', userAgent: ua }, detail: { detail } })),
          host,
          app,
        };
        const line = formatRfc5424(event);
        expect(line).not.toMatch(RAW_BREAKERS);
        const parsed = parseRfc5424(line);
        expect(parsed.msgId).toBe('http_request');
        const params = sdParams(parsed, AUDIT_SD_ID)!;
        // Raw text is neutralised once; text without raw controls (a sanitized event's) goes as it is.
        const expected = (value: string): string => (hasUnsafeChars(value) ? neutralise(value) : value);
        if (reason !== '') expect(params.reason).toBe(expected(reason));
        if (url !== '') expect(params.url).toBe(expected(url));
        if (hasUnsafeChars(reason)) expect(unescapeNeutralised(params.reason)).toBe(reason);
        expect(sdParams(parsed, 'meta')).toEqual({ sequenceId: String(event.seq) });
        const fromMsg = JSON.parse(parsed.msg!) as AuditEvent;
        expect(fromMsg.seq).toBe(event.seq);
        expect(unescapeNeutralised(fromMsg.detail.detail as string)).toBe(detail);
        // The octet count frames it exactly, however many bytes its characters take.
        const { messages, rest } = parseOctetCounted(frameOctetCounted([Buffer.from(line), Buffer.from(line)]));
        expect(messages.map((message) => message.toString())).toEqual([line, line]);
        expect(rest.length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('caps 100 KB values with a visible marker and stays parseable', () => {
    const huge = 'A'.repeat(100 * 1024);
    const event = source.create(httpInput({ reason: huge, detail: { body: huge } }));
    const line = formatRfc5424(event);
    expect(line.length).toBeLessThan(40 * 1024);
    const params = sdParams(parseRfc5424(line), AUDIT_SD_ID)!;
    expect(params.reason).toMatch(/…\[\+\d+ chars\]$/);
  });
});

describe('octet counting', () => {
  it('parses a stream cut anywhere, and refuses a malformed count', () => {
    const messages = ['<13>1 - - - - - - one', '<13>1 - - - - - - two\nwith LF', '<13>1 - - - - - - drei ü'].map((m) => Buffer.from(m));
    const stream = frameOctetCounted(messages);
    for (let cut = 0; cut <= stream.length; cut++) {
      const first = parseOctetCounted(stream.subarray(0, cut));
      const second = parseOctetCounted(Buffer.concat([first.rest, stream.subarray(cut)]));
      expect([...first.messages, ...second.messages].map(String)).toEqual(messages.map(String));
    }
    expect(() => parseOctetCounted(Buffer.from('12x <13>1'))).toThrow(/bad octet count/);
    expect(() => parseOctetCounted(Buffer.from('0 '))).toThrow(/bad octet count/);
  });
});
