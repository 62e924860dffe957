import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { Collector } from '../../src/collector/collector';
import type { CollectedRecord } from '../../src/collector/record';
import { asciiJson, loginFail, newSource, tempDir, waitFor } from './helpers';

// util-linux logger (Debian package bsdutils).
const LOGGER = ['/usr/bin/logger', '/bin/logger'].find((path) => existsSync(path));
if (LOGGER === undefined) console.warn('SKIPPED: util-linux logger is absent (install bsdutils); the logger interop test did not run');
const describeIf = LOGGER === undefined ? describe.skip : describe;

function logger(port: number, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(LOGGER as string, ['--rfc5424', '--octet-count', '--tcp', '-n', '127.0.0.1', '-P', String(port), ...args], (error, _stdout, stderr) =>
      error ? reject(new Error(`logger failed: ${error.message} ${stderr}`)) : resolve(),
    );
  });
}

describeIf('interop: util-linux logger --rfc5424 --octet-count --tcp', () => {
  const dir = tempDir();
  let collector: Collector;
  const records: CollectedRecord[] = [];
  let port = 0;

  beforeAll(async () => {
    collector = await Collector.start({ dbPath: dir.file('logger.db'), tcp: { port: 0 }, udp: false, store: { batchDelayMs: 5 }, onRecord: (record) => records.push(record) });
    port = collector.addresses().tcp?.port ?? 0;
  });
  afterAll(async () => {
    await collector.close();
    dir.remove();
  });

  it('arrives parsed: header, logger\'s own SD, MSG', async () => {
    await logger(port, ['-t', 'a09-interop', '--msgid', 'TEST1', '-p', 'auth.warning', '--', 'plain message from logger']);
    await waitFor(() => records.length === 1, 'the record');
    expect(records[0]).toMatchObject({
      transport: 'tcp',
      format: 'rfc5424',
      facility: 4,
      severity: 4,
      app: 'a09-interop',
      msgId: 'TEST1',
      message: 'plain message from logger',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}$/),
    });
    expect(records[0].host).toBeTruthy();
    expect(records[0].sd?.timeQuality).toMatchObject({ tzKnown: '1' });
    expect(records[0].flags).toBeUndefined();
  });

  it('carries escaped SD values and UTF-8 through', async () => {
    records.length = 0;
    await logger(port, ['-t', 'a09-interop', '--sd-id', 'test@32473', '--sd-param', 'x="q\\"\\]\\\\"', '--', 'grüße ✓']);
    await waitFor(() => records.length === 1, 'the record');
    expect(records[0].sd?.['test@32473']).toEqual({ x: 'q"]\\' });
    expect(records[0].message).toBe('grüße ✓');
  });

  it('delivers one of our events (SD-ID a09@32473, JSON MSG), several per connection, unharmed by ACKs', async () => {
    records.length = 0;
    const source = newSource({ host: 'logger-host' });
    const events = [loginFail(source), loginFail(source), loginFail(source)];
    // logger -f sends each line of a file as its own message over one connection.
    const file = dir.file('events.txt');
    writeFileSync(file, `${events.map((event) => asciiJson(event)).join('\n')}\n`);
    await logger(port, ['-t', 'juice-shop', '--sd-id', 'a09@32473', '--sd-param', `instance="${source.instance}"`, '-f', file]);
    await waitFor(
      () => records.length >= 3,
      () => `three events; have ${records.length}, stats ${JSON.stringify(collector.stats())}, store ${JSON.stringify(collector.store.health())}`,
    );
    expect(records.map((record) => record.event)).toEqual(events);
    await waitFor(() => collector.store.sources().some((info) => info.instance === source.instance && info.contiguousSeq === 3), 'source at seq 3');
  });
});
