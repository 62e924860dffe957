import fc from 'fast-check';
import { StreamFramer } from '../../src/collector/framing';
import { GENESIS_HASH } from '../../src/collector/chain';
import { RowPacker } from '../../src/collector/packed-rows';
import { ReceivedFrame, parseFrame, recordFromFrame, type FrameOrigin, type ParseNotes } from '../../src/collector/parse';
import { isTimestamp } from '../../src/collector/rfc5424';
import { packFrame, packRecord } from '../../src/collector/rows';
import type { CollectedRecord } from '../../src/collector/record';
import { format5424, loginFail, newSource, octet } from './helpers';

// glossy is winston-syslog's producer: what the naive configuration really sends.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const GlossyProducer = require('glossy').Produce as new (options: object) => { produce(options: object): string };

const origin: FrameOrigin = { receivedAt: '2026-01-02T03:04:05.006Z', transport: 'tcp', peer: '127.0.0.1:40000', truncated: false };

function parse(text: string | Buffer, truncated = false): CollectedRecord {
  return recordFromFrame(typeof text === 'string' ? Buffer.from(text) : text, { ...origin, truncated });
}

describe('RFC 5424', () => {
  it('parses header fields, NILVALUEs and an empty MSG', () => {
    const record = parse('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 -');
    expect(record).toMatchObject({ format: 'rfc5424', facility: 20, severity: 5, timestamp: '2003-10-11T22:14:15.003Z', host: 'mymachine.example.com', app: 'evntslog', msgId: 'ID47', message: '' });
    expect(record.procId).toBeUndefined();
    expect(record.sd).toBeUndefined();
    expect(record.flags).toBeUndefined();
    const nil = parse('<0>1 - - - - - - hi');
    expect(nil).toMatchObject({ format: 'rfc5424', facility: 0, severity: 0, message: 'hi' });
    expect(nil.host).toBeUndefined();
    expect(nil.timestamp).toBeUndefined();
  });

  it('parses several SD elements, unescapes \\" \\\\ \\] and keeps other backslashes, meta sequenceId included', () => {
    const record = parse(
      '<165>1 2003-10-11T22:14:15.003-07:00 host app 123 ID [exampleSDID@32473 iut="3" eventSource="Appli\\"cation" path="C:\\\\dir\\]x\\n"][meta sequenceId="42"][origin ip="10.0.0.1" ip="10.0.0.2"] \uFEFFmsg with ] and "',
    );
    expect(record.format).toBe('rfc5424');
    expect(record.sd).toEqual({
      'exampleSDID@32473': { iut: '3', eventSource: 'Appli"cation', path: 'C:\\dir]x\\n' },
      meta: { sequenceId: '42' },
      origin: { ip: '10.0.0.1' },
    });
    expect(record.message).toBe('msg with ] and "');
  });

  it('drops the BOM that marks MSG as UTF-8 and decodes multi-byte text, in SD values too', () => {
    const record = parse(Buffer.concat([Buffer.from('<13>1 - h a - - [x@1 name="Zoë \\"q\\""] '), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('grüße ✓')]));
    expect(record.message).toBe('grüße ✓');
    expect(record.sd).toEqual({ 'x@1': { name: 'Zoë "q"' } });
  });

  it('replaces invalid UTF-8 and flags it, in MSG and in SD values', () => {
    const record = parse(Buffer.concat([Buffer.from('<13>1 - h a - - - bad '), Buffer.from([0xff, 0xc3, 0x28])]));
    expect(record.format).toBe('rfc5424');
    expect(record.message).toBe('bad \uFFFD\uFFFD(');
    expect(record.flags).toEqual(['invalid_utf8']);
    const inSd = parse(Buffer.concat([Buffer.from('<13>1 - h a - - [x@1 v="'), Buffer.from([0xfe]), Buffer.from('"] m')]));
    expect(inSd.flags).toEqual(['invalid_utf8']);
    expect(inSd.sd?.['x@1'].v).toBe('\uFFFD');
  });

  it('keeps SD-IDs and names like __proto__ as data', () => {
    const record = parse('<13>1 - h a - - [__proto__ polluted="yes"][x@1 __proto__="v"] m');
    expect(record.format).toBe('rfc5424');
    expect(Object.keys(record.sd ?? {})).toEqual(['__proto__', 'x@1']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(record.sd?.['x@1'], '__proto__')).toBe(true);
  });

  it.each([
    ['a second element with the same SD-ID (shadowing)', '<13>1 - h a - - [a09@32473 x="1"][a09@32473 x="2"] m'],
    ['an unterminated SD element', '<13>1 - h a - - [x@1 a="b" m'],
    ['an unterminated PARAM-VALUE', '<13>1 - h a - - [x@1 a="b] m'],
    ['a control character in HOSTNAME', '<13>1 - h\u0001 a - - - m'],
    ['a bad TIMESTAMP', '<13>1 yesterday h a - - - m'],
    ['a missing field', '<13>1 - h a - -'],
    ['an APP-NAME over 48 bytes', `<13>1 - h ${'a'.repeat(49)} - - - m`],
    ['no space before MSG', '<13>1 - h a - - [x@1]m'],
    ['PRI over 191', '<192>1 - h a - - - m'],
  ])('keeps %s as a raw record', (_what, text) => {
    const record = parse(text);
    expect(record.format).toBe('raw');
    expect(record.message).toBe(text);
    expect(record.facility).toBeUndefined();
  });
});

describe('RFC 3164', () => {
  it('parses what winston-syslog 2.7.1 sends (glossy BSD producer), with and without HOSTNAME', () => {
    const date = new Date(2026, 10, 7, 9, 5, 3);
    const withHost = new GlossyProducer({ type: 'BSD', facility: 'local0', appName: 'juice-shop', pid: 6662 }).produce({
      severity: 'warning', host: 'localhost', appName: 'juice-shop', date, message: '{"level":"warning","message":"x é"}',
    });
    expect(withHost).toBe('<132>Nov  7 09:05:03 localhost juice-shop[6662]: {"level":"warning","message":"x é"}');
    expect(parse(withHost)).toMatchObject({
      format: 'rfc3164', facility: 16, severity: 4, timestamp: 'Nov  7 09:05:03', host: 'localhost', app: 'juice-shop', procId: '6662',
      message: '{"level":"warning","message":"x é"}',
    });
    // winston-syslog with `localhost: ''` leaves HOSTNAME out altogether.
    const noHost = new GlossyProducer({ type: 'BSD', facility: 'local0' }).produce({ severity: 'error', host: '', appName: 'node', pid: 77, date, message: 'boom' });
    expect(noHost).toBe('<131>Nov  7 09:05:03 node[77]: boom');
    const record = parse(noHost);
    expect(record).toMatchObject({ format: 'rfc3164', app: 'node', procId: '77', message: 'boom' });
    expect(record.host).toBeUndefined();
  });

  it('parses a two-digit day, a TAG without pid, an RFC 3339 timestamp, and a PRI with no timestamp', () => {
    expect(parse('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed')).toMatchObject({
      format: 'rfc3164', facility: 4, severity: 2, timestamp: 'Oct 11 22:14:15', host: 'mymachine', app: 'su', message: "'su root' failed",
    });
    expect(parse('<13>2026-01-02T03:04:05.123456+01:00 host1 tag[9]: hi')).toMatchObject({ format: 'rfc3164', host: 'host1', app: 'tag', procId: '9', message: 'hi' });
    const bare = parse('<13>just text');
    expect(bare).toMatchObject({ format: 'rfc3164', facility: 1, severity: 5, message: 'just text' });
    expect(bare.timestamp).toBeUndefined();
  });
});

describe('raw records', () => {
  it('keeps what has no PRI, binary junk included, with invalid UTF-8 replaced and flagged', () => {
    expect(parse('hello world')).toMatchObject({ format: 'raw', message: 'hello world', transport: 'tcp', peer: '127.0.0.1:40000', receivedAt: origin.receivedAt, id: 0 });
    const junk = parse(Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x33, 0x31, 0x6d]));
    expect(junk.format).toBe('raw');
    expect(junk.message).toBe('\u0000\uFFFD\u001b[31m');
    expect(junk.flags).toEqual(['invalid_utf8']);
  });

  it('keeps a truncated frame raw, flagged, even when it would parse', () => {
    const record = parse('<13>1 - h a - - - cut here', true);
    expect(record).toMatchObject({ format: 'raw', message: '<13>1 - h a - - - cut here', flags: ['truncated'] });
  });
});

describe('our events', () => {
  it('takes the event from MSG when SD-ID a09@32473 is present and the event is complete', () => {
    const source = newSource();
    const event = loginFail(source, { description: 'café ✓ "quoted" ] \\' });
    const record = parse(format5424(event));
    expect(record.format).toBe('rfc5424');
    expect(record.event).toEqual(event);
    expect(record.sd?.['a09@32473'].instance).toBe(source.instance);
    expect(record.sd?.meta.sequenceId).toBe('1');
    expect(record.msgId).toBe('authn_login_fail');
  });

  it('flags, and does not take, an event that is incomplete or not JSON', () => {
    const event = loginFail(newSource());
    const notes: ParseNotes = { unparseable: false, invalidUtf8: false, invalidEvent: false };
    const incomplete = { ...event, who: {} };
    const record = recordFromFrame(Buffer.from(format5424(event).replace(/ \{.*$/, ` ${JSON.stringify(incomplete)}`)), origin, notes);
    expect(record.event).toBeUndefined();
    expect(record.flags).toEqual(['invalid_event']);
    expect(notes.invalidEvent).toBe(true);
    for (const message of ['not json', '{"type":', '[1,2]', 'null', '{"type":"no_such_type"}']) {
      const other = parse(`<13>1 - h a - - [a09@32473 instance="x"] ${message}`);
      expect(other.event).toBeUndefined();
      expect(other.flags).toEqual(['invalid_event']);
    }
  });

  it('does not take an event whose host, app or instance would not fit a syslog header', () => {
    const source = newSource();
    for (const change of [{ host: 'h'.repeat(256) }, { app: 'a'.repeat(49) }, { instance: 'i'.repeat(129) }]) {
      const event = loginFail(source);
      // A well-formed header; only the event in MSG is oversized.
      const record = parse(format5424(event).replace(/ \{.*$/, ` ${JSON.stringify({ ...event, ...change })}`));
      expect(record.event).toBeUndefined();
      expect(record.flags).toEqual(['invalid_event']);
    }
  });

  it('ignores a JSON event in MSG without our SD-ID', () => {
    const event = loginFail(newSource());
    const record = parse(`<13>1 - h a - - - ${JSON.stringify(event)}`);
    expect(record.event).toBeUndefined();
    expect(record.flags).toBeUndefined();
  });
});

describe('properties', () => {
  it('never throws on arbitrary bytes, with or without a syslog-looking start', () => {
    const prefix = fc.constantFrom('', '<13>', '<13>1 ', '<13>1 - h a - - ', '<13>1 - h a - - [x@1 a="', '<13>Oct 11 22:14:15 ');
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 200 }), (start, bytes) => {
        const record = parse(Buffer.concat([Buffer.from(start), Buffer.from(bytes)]));
        expect(['rfc5424', 'rfc3164', 'raw']).toContain(record.format);
        expect(typeof record.message).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });

  it('any byte chunking of a stream of octet-counted events yields exactly the same records', () => {
    const source = newSource();
    const descriptions = fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(descriptions, fc.array(fc.nat(), { maxLength: 30 }), (texts, cuts) => {
        const wires = texts.map((description) => format5424(loginFail(source, { description: description.length > 0 ? description : 'x' })));
        const stream = Buffer.concat(wires.map((wire) => octet(wire)));
        const records: CollectedRecord[] = [];
        const framer = new StreamFramer({
          maxFrameBytes: 256 * 1024,
          onFrame: (frame) => records.push(recordFromFrame(frame.data, { ...origin, truncated: frame.truncated })),
          onProblem: () => undefined,
        });
        const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const point of [...points, stream.length]) {
          framer.push(stream.subarray(from, point));
          from = point;
        }
        expect(records).toEqual(wires.map((wire) => parse(wire)));
        expect(records.every((record) => record.event !== undefined)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('RFC 5424 frames packed from their bytes', () => {
  const source = newSource();
  const ours = fc
    .record({ description: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), userId: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), { nil: undefined }) })
    .map(({ description, userId }) => format5424(loginFail(source, { description, who: { ip: '10.0.0.7', userId } })));
  const theirs = fc.constantFrom(
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 -',
    '<0>1 - - - - - - hi',
    '<13>1 2026-01-01T00:00:00+01:00 h a 1 m [x@1 v="é\\\\\\"✓"][meta sequenceId="3"] grüße 😀',
    '<13>1 - h a - - [a09@32473 instance="i"] {"not":"an event"}',
    '<13>1 - h a - - - \uFEFFwith a BOM',
  );
  // Any byte anywhere: invalid UTF-8 in SD or MSG, broken syntax (then it is not RFC 5424 at all).
  const frame = fc.tuple(fc.oneof(ours, theirs), fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 3 })), { nil: undefined })).map(([text, insert]) => {
    const bytes = Buffer.from(text);
    if (insert === undefined) return bytes;
    const at = insert[0] % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(insert[1]), bytes.subarray(at)]);
  });

  it('property: the row packed from the bytes is the row of the record, byte for byte (so the same hash)', () => {
    let frames = 0;
    fc.assert(
      fc.property(frame, fc.nat({ max: 1e9 }), (data, id) => {
        const parsed = parseFrame(data, origin);
        if (!(parsed instanceof ReceivedFrame)) return;
        frames++;
        const sourceId = parsed.event === undefined ? null : 7;
        const fromBytes = new RowPacker(GENESIS_HASH, undefined, 1, 16);
        const fromRecord = new RowPacker(GENESIS_HASH, undefined, 1, 16);
        const hash = packFrame(fromBytes, parsed, id + 1, sourceId);
        const record = recordFromFrame(data, origin);
        record.id = id + 1;
        expect(hash).toEqual(packRecord(fromRecord, record, sourceId));
        const [a, b] = [fromBytes.take(), fromRecord.take()];
        expect(Buffer.from(a.bytes)).toEqual(Buffer.from(b.bytes));
        expect(a.columns).toEqual(b.columns);
      }),
      { numRuns: 800 },
    );
    expect(frames).toBeGreaterThan(250);
  });
});

describe('RFC 5424 frames packed from their bytes, many to a batch', () => {
  it('property: rows of frames from the same or other connections (origin columns reused) equal the rows of their records', () => {
    const source = newSource();
    const origins: FrameOrigin[] = [origin, { ...origin, peer: '[::1]:5', transport: 'tls' }, { ...origin, receivedAt: '2026-01-02T03:04:05.007Z' }];
    const item = fc.tuple(fc.nat({ max: 2 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 12 }), fc.nat({ max: 64 }), (items, capacity) => {
        const fromBytes = new RowPacker(GENESIS_HASH, undefined, 1, 1 + capacity);
        const fromRecords = new RowPacker(GENESIS_HASH, undefined, 1, 1 + capacity);
        items.forEach(([which, description], index) => {
          const data = Buffer.from(format5424(loginFail(source, { description })));
          const parsed = parseFrame(data, origins[which]);
          if (!(parsed instanceof ReceivedFrame)) throw new Error('not RFC 5424');
          packFrame(fromBytes, parsed, index + 1, 3);
          const record = recordFromFrame(data, origins[which]);
          record.id = index + 1;
          packRecord(fromRecords, record, 3);
        });
        expect(fromBytes.lastHash).toEqual(fromRecords.lastHash);
        const [a, b] = [fromBytes.take(), fromRecords.take()];
        expect(Buffer.from(a.bytes)).toEqual(Buffer.from(b.bytes));
        expect(a.columns).toEqual(b.columns);
      }),
      { numRuns: 200 },
    );
  });
});

describe('RFC 5424 TIMESTAMP', () => {
  const PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
  it('property: the byte check accepts exactly what the RFC 3339 pattern does', () => {
    const valid = fc
      .tuple(fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true }), fc.string({ unit: fc.constantFrom('0', '5', '9'), maxLength: 11 }), fc.constantFrom('Z', '+01:00', '-07:30', '+1:00', 'z', ''))
      .map(([date, fraction, zone]) => `${date.toISOString().slice(0, 19)}${fraction.length > 0 ? `.${fraction}` : ''}${zone}`);
    const mutated = fc.tuple(valid, fc.nat(), fc.constantFrom('x', '-', ':', '.', '1', 'T', ' ', '')).map(([text, at, char]) => {
      const cut = at % (text.length + 1);
      return text.slice(0, cut) + char + text.slice(cut + (char === '' ? 1 : 0));
    });
    fc.assert(
      fc.property(fc.oneof(valid, mutated), (text) => {
        const bytes = Buffer.from(`<${text}>`);
        expect(isTimestamp(bytes, 1, bytes.length - 1)).toBe(PATTERN.test(text));
      }),
      { numRuns: 3000 },
    );
    expect(isTimestamp(Buffer.from('2003-10-11T22:14:15.003Z'), 0, 24)).toBe(true);
  });
});
