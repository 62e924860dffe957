import { Collector } from '../../src/collector/collector';
import type { CollectedRecord } from '../../src/collector/record';
import { TcpClient, format5424, loginFail, newSource, octet, tempDir, waitFor } from './helpers';
import { FORWARD_TEMPLATE, RSYSLOGD, Rsyslogd, freePort } from './rsyslog';

if (RSYSLOGD === undefined) console.warn('SKIPPED: rsyslogd is absent (install rsyslog); the rsyslog forwarding interop test did not run');
const describeIf = RSYSLOGD === undefined ? describe.skip : describe;

describeIf('interop: rsyslog forwarding (imtcp -> omfwd TCP octet-counted, RFC 5424) into the collector', () => {
  const dir = tempDir('a09-rsyslog-');
  let collector: Collector;
  let rsyslog: Rsyslogd;
  let inputPort = 0;
  const records: CollectedRecord[] = [];

  beforeAll(async () => {
    collector = await Collector.start({ dbPath: dir.file('rsyslog.db'), tcp: { port: 0 }, udp: false, store: { batchDelayMs: 5 }, onRecord: (record) => records.push(record) });
    const collectorPort = collector.addresses().tcp?.port ?? 0;
    inputPort = await freePort();
    rsyslog = await Rsyslogd.start(
      dir.dir,
      `module(load="imtcp")
${FORWARD_TEMPLATE}
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="${collectorPort}" protocol="tcp" TCP_Framing="octet-counted" template="a09fwd")
}
input(type="imtcp" address="127.0.0.1" port="${inputPort}" ruleset="forward")`,
      inputPort,
    );
  });

  afterAll(async () => {
    await rsyslog?.stop();
    await collector?.close();
    dir.remove();
  });

  it('arrives parsed: our events keep their SD and MSG through rsyslog, in order, and keep flowing across ACKs', async () => {
    const source = newSource({ host: 'rsyslog-src' });
    const events = Array.from({ length: 300 }, (_, i) => loginFail(source, { description: `attempt ${i} "quoted" ] \\ ✓` }));
    const client = await TcpClient.connect(inputPort);
    // Two bursts: the second goes over rsyslog's forwarding connection after the collector has written ACKs to it.
    await client.write(Buffer.concat(events.slice(0, 150).map((event) => octet(format5424(event)))));
    await waitFor(() => records.length === 150, '150 records through rsyslog');
    await client.write(Buffer.concat(events.slice(150).map((event) => octet(format5424(event)))));
    await waitFor(() => records.length === 300, '300 records through rsyslog', 20000);
    await client.close();

    expect(records.every((record) => record.format === 'rfc5424' && record.transport === 'tcp')).toBe(true);
    expect(records.map((record) => record.event)).toEqual(events);
    expect(records[0]).toMatchObject({ host: 'rsyslog-src', app: 'juice-shop', msgId: 'authn_login_fail', procId: '4242' });
    expect(records[0].sd?.['a09@32473']).toMatchObject({ instance: source.instance, userId: '3' });
    expect(records[0].sd?.meta).toEqual({ sequenceId: '1' });
    expect(collector.store.sources()).toEqual([expect.objectContaining({ instance: source.instance, contiguousSeq: 300, duplicates: 0, openGaps: 0 })]);
    expect(collector.stats().rejected).toMatchObject({ unparseable: 0, invalid_event: 0, duplicate: 0 });
    // rsyslog was sent ACKs it never reads, and forwarded the second burst all the same.
    expect(collector.stats().acks.written).toBeGreaterThan(0);
  });

  it('carries a plain RFC 5424 message with escaped SD through as parsed', async () => {
    records.length = 0;
    const client = await TcpClient.connect(inputPort);
    await client.write(octet('<165>1 2026-01-02T03:04:05.678Z gw app 99 ID7 [x@32473 v="a\\"b\\]c\\\\d"] hello rsyslog'));
    await waitFor(() => records.length === 1, 'the record');
    expect(records[0]).toMatchObject({ format: 'rfc5424', facility: 20, severity: 5, host: 'gw', app: 'app', procId: '99', msgId: 'ID7', message: 'hello rsyslog' });
    expect(records[0].sd).toEqual({ 'x@32473': { v: 'a"b]c\\d' } });
    await client.close();
  });
});
