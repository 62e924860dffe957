import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAuditLogger } from '../../src/ship/audit-logger';
import { httpInput, tempDir } from './helpers';
import { countSeqs, OUTAGE_EVENTS, ranges, runOutage, settle } from './outage';
import { hasRsyslog, Rsyslog } from './rsyslog';

if (!hasRsyslog()) {
  console.warn('SKIPPED: the rsyslog outage test needs /usr/sbin/rsyslogd (Debian package rsyslog); CI installs it');
}
const describeRsyslog = hasRsyslog() ? describe : describe.skip;

describeRsyslog('outage against a real rsyslog', () => {
  it(
    `loses none of ${OUTAGE_EVENTS} events over TCP while rsyslogd is killed, terminated, hung and down for 15 s`,
    async () => {
      const dir = tempDir('a09-outage-');
      const rsyslog = await Rsyslog.start(dir);
      const lines: string[] = [];
      // Default settings on purpose: the defaults are what must lose nothing.
      const tcp = createAuditLogger({ collector: rsyslog.tcpUrl, spoolDir: path.join(dir, 'spool-tcp'), heartbeatMs: 0, lifecycle: false, app: 'a09-tcp', hmacKey: 'k' });
      // Our UDP path for comparison only: UDP is documented as lossy, nothing is asserted on it.
      const udp = createAuditLogger({ collector: rsyslog.udpUrl, spoolDir: path.join(dir, 'spool-udp'), heartbeatMs: 0, lifecycle: false, app: 'a09-udp', hmacKey: 'k' });
      try {
        await runOutage(
          rsyslog,
          (n) => {
            tcp.emit(httpInput({ detail: { n } }));
            udp.emit(httpInput({ detail: { n } }));
          },
          (line) => lines.push(line),
        );
        const seqsOf = (app: string): number[] =>
          rsyslog
            .records()
            .filter((record) => record.app === app)
            .map((record) => Number(record.sdparsed.meta?.sequenceId));
        await settle(
          () => seqsOf('a09-tcp').length + seqsOf('a09-udp').length,
          () => countSeqs(seqsOf('a09-tcp')).missing.length === 0 && countSeqs(seqsOf('a09-udp')).missing.length === 0,
          5000,
          30_000,
        );
        const ours = countSeqs(seqsOf('a09-tcp'));
        const oursUdp = countSeqs(seqsOf('a09-udp'));
        const stats = tcp.stats().ship!;
        lines.push(
          `a09 TCP: ${ours.unique}/${OUTAGE_EVENTS} arrived, ${ours.missing.length} missing ${ranges(ours.missing)}, ` +
            `${ours.duplicates} duplicates (dropped by seq), ${stats.replayed} replayed, ${stats.disconnects} disconnects, ${stats.lost} lost by the transport`,
          `a09 UDP (best effort, not asserted): ${oursUdp.unique}/${OUTAGE_EVENTS} arrived, ${oursUdp.missing.length} missing ${ranges(oursUdp.missing)}, ${oursUdp.duplicates} duplicates`,
        );
        console.log(`outage run against rsyslog:\n  ${lines.join('\n  ')}`);
        expect(ours.missing).toEqual([]);
        expect(stats.lost).toBe(0);
      } finally {
        await Promise.all([tcp.close(), udp.close()]);
        await rsyslog.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
