import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditEvent, EventInput } from '../../src/events';
import { sanitizeEvent } from '../../src/sanitize';
import { createAuditLogger, type AuditLogger } from '../../src/ship/audit-logger';
import { AUDIT_SD_ID } from '../../src/ship/rfc5424';
import { httpInput, sleep, tempDir, waitFor } from './helpers';
import { hasRsyslog, Rsyslog, type RsyslogRecord } from './rsyslog';

if (!hasRsyslog()) {
  console.warn('SKIPPED: rsyslog interop tests need /usr/sbin/rsyslogd (Debian package rsyslog); CI installs it');
}
const describeRsyslog = hasRsyslog() ? describe : describe.skip;

const HUNDRED_KB = 'V'.repeat(100 * 1024);
const FORGED_HEADER = '<13>1 2025-01-01T00:00:00.000Z evil-host forged-app 666 forged_msgid - forged';

/** Values that break naive syslog: each goes into several fields of its own event. */
const NASTY: Record<string, string> = {
  lf: 'line one\nline two',
  crlf: 'line one\r\nline two',
  u2028: 'line one\u2028line two\u2029',
  escape: '\u001b[31mRED\u001b[0m \u001b]0;title\u0007',
  quoteBracket: 'x"] [a09@32473 level="INFO"] "',
  backslash: 'C:\\temp\\"]\\',
  forgedHeader: `ok\n${FORGED_HEADER}`,
  forgedFramed: `${FORGED_HEADER.length} ${FORGED_HEADER}`,
  nul: 'a\u0000b\u0085c',
  hundredKb: HUNDRED_KB,
  unicode: 'Jürgen 😀 \u202eevil\u202c',
};

function nastyInput(name: string, value: string): EventInput {
  return httpInput({
    type: 'input_validation_fail',
    outcome: 'blocked',
    reason: value,
    who: { ip: '127.0.0.1', userAgent: value },
    where: { method: 'POST', route: '/rest/user/login', url: `/rest/user/login?q=${value}`, requestId: `req-${name}` },
    detail: { field: name, value },
  });
}

/** ~200 KB of structured detail: more than a datagram, far less than rsyslog's maxMessageSize. */
function hugeInput(): EventInput {
  const detail: Record<string, string> = {};
  for (let i = 0; i < 25; i++) detail[`k${i}`] = `${i}:${'W'.repeat(8000)}`;
  return httpInput({ type: 'sys_error', outcome: 'error', reason: 'huge', detail });
}

describeRsyslog('real rsyslog interop', () => {
  let dir: string;
  let rsyslog: Rsyslog;
  const loggers: AuditLogger[] = [];

  beforeAll(async () => {
    dir = tempDir('a09-rsyslog-');
    rsyslog = await Rsyslog.start(dir);
  });

  afterAll(async () => {
    await Promise.all(loggers.map((logger) => logger.close()));
    await rsyslog?.stop();
    if (process.env.A09_KEEP === undefined) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(dir);
  });

  async function shipAll(collector: string, label: string): Promise<{ shipped: AuditEvent[]; records: RsyslogRecord[] }> {
    const logger = createAuditLogger({ collector, spoolDir: path.join(dir, `spool-${label}`), heartbeatMs: 0, lifecycle: false, hmacKey: 'k', app: `a09-${label}`, host: 'shop-1' });
    loggers.push(logger);
    const inputs = [...Object.entries(NASTY).map(([name, value]) => nastyInput(name, value)), hugeInput()];
    const created = inputs.map((input) => logger.emit(input));
    expect(created.every((event) => event !== undefined)).toBe(true);
    // emit returns the event as created; the shipping thread sends its sanitized form.
    const shipped = created.map((event) => sanitizeEvent(event!));
    const mine = (): RsyslogRecord[] => rsyslog.records().filter((record) => record.app === `a09-${label}`);
    await waitFor(() => mine().length >= shipped.length, 20_000, `${label} records in rsyslog`);
    // Anything forged would arrive with the rest: wait a little longer and count again.
    await sleep(300);
    return { shipped, records: mine() };
  }

  function checkRecords(shipped: AuditEvent[], records: RsyslogRecord[], input: string): void {
    expect(records).toHaveLength(shipped.length);
    expect(records.every((record) => record.input === input)).toBe(true);
    const bySeq = new Map(records.map((record) => [Number(record.sdparsed.meta?.sequenceId), record]));
    expect(bySeq.size).toBe(shipped.length);
    for (const event of shipped) {
      const record = bySeq.get(event.seq)!;
      expect(record).toBeDefined();
      expect(record.msgid).toBe(event.type);
      expect(record.procid).toBe(String(process.pid));
      expect(record.host).toBe('shop-1');
      expect(Number(record.pri)).toBe(13 * 8 + event.severity);
      const sd = record.sdparsed[AUDIT_SD_ID];
      expect(sd.instance).toBe(event.instance);
      expect(sd.outcome).toBe(event.outcome);
      expect(sd.reason).toBe(event.reason);
      expect(sd.requestId).toBe(event.where.requestId);
      if (event.where.url !== undefined) expect(sd.url).toBe(event.where.url);
    }
    // Nothing forged: no record carries the attacker's header fields.
    expect(records.some((record) => record.host === 'evil-host' || record.app === 'forged-app' || record.msgid === 'forged_msgid')).toBe(false);
  }

  it('TCP: exactly one record per event, APP-NAME, MSGID and structured data parsed by rsyslog as sent', async () => {
    const { shipped, records } = await shipAll(rsyslog.tcpUrl, 'tcp');
    checkRecords(shipped, records, 'imtcp');
    // Over TCP the whole event arrives in MSG, the 200 KB one included.
    for (const record of records) {
      const event = JSON.parse(record.msg) as AuditEvent;
      expect(event).toEqual(shipped.find((candidate) => candidate.seq === event.seq));
    }
    expect(Math.max(...records.map((record) => record.msg.length))).toBeGreaterThan(150_000);
  });

  it('UDP: exactly one record per event; the oversize event arrives cut down to a datagram, saying so', async () => {
    const { shipped, records } = await shipAll(rsyslog.udpUrl, 'udp');
    checkRecords(shipped, records, 'imudp');
    const huge = records.find((record) => record.msgid === 'sys_error')!;
    expect((JSON.parse(huge.msg) as AuditEvent).detail.truncated).toMatch(/more than the collector takes \(65507\)/);
  });
});
