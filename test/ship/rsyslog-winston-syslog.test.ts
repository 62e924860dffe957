import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './helpers';
import { countSeqs, OUTAGE_EVENTS, ranges, runOutage, settle } from './outage';
import { hasRsyslog, Rsyslog, type RsyslogRecord } from './rsyslog';

if (!hasRsyslog()) {
  console.warn('SKIPPED: the winston-syslog outage test needs /usr/sbin/rsyslogd (Debian package rsyslog); CI installs it');
}
const describeRsyslog = hasRsyslog() ? describe : describe.skip;

const STREAMS = ['ws-tcp-5424', 'ws-tcp-3164', 'ws-udp-5424'] as const;

/** Every `a09-seq=N` in the records of one sender (records can run together, so all of them). */
function seqsOf(records: readonly RsyslogRecord[], app: string): number[] {
  const seqs: number[] = [];
  for (const record of records) {
    if (record.app !== app) continue;
    for (const match of record.msg.matchAll(/a09-seq=(\d+)/g)) seqs.push(Number(match[1]));
  }
  return seqs;
}

describeRsyslog('the same outage with winston-syslog 2.7.1 (the naive configuration)', () => {
  it(
    'loses events: the contrast the lab teaches',
    async () => {
      const dir = tempDir('a09-ws-outage-');
      const rsyslog = await Rsyslog.start(dir);
      const child: ChildProcess = fork(path.join(__dirname, 'fixtures', 'winston-syslog-sender.js'), [String(rsyslog.tcpPort), String(rsyslog.udpPort)], {
        stdio: 'ignore',
      });
      const lines: string[] = [];
      try {
        await runOutage(rsyslog, (n) => child.send({ n }), (line) => lines.push(line));
        const total = (): number => STREAMS.reduce((sum, app) => sum + seqsOf(rsyslog.records(), app).length, 0);
        // winston-syslog retries on its own doubling delay: give it time to empty its queue.
        await settle(total, () => STREAMS.every((app) => countSeqs(seqsOf(rsyslog.records(), app)).missing.length === 0), 8000, 30_000);
        const report = await new Promise<{ errors: number; queued: number[] }>((resolve) => {
          child.once('message', (message) => resolve(message as { errors: number; queued: number[] }));
          child.send({ report: true });
        });
        const records = rsyslog.records();
        let lost = 0;
        STREAMS.forEach((app, i) => {
          const count = countSeqs(seqsOf(records, app));
          lost += count.missing.length;
          lines.push(
            `winston-syslog ${app}: ${count.unique}/${OUTAGE_EVENTS} arrived, ${count.missing.length} lost ${ranges(count.missing)}, ` +
              `${count.duplicates} duplicates, ${report.queued[i]} still queued in memory`,
          );
        });
        lines.push(`winston-syslog errors emitted on the logger: ${report.errors}`);
        console.log(`outage run against rsyslog with winston-syslog 2.7.1:\n  ${lines.join('\n  ')}`);
        // Its UDP transport keeps nothing while rsyslogd is down; across all three streams it loses events.
        expect(countSeqs(seqsOf(records, 'ws-udp-5424')).missing.length).toBeGreaterThan(0);
        expect(lost).toBeGreaterThan(0);
      } finally {
        child.kill('SIGKILL');
        await rsyslog.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
