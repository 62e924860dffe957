import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import winston from 'winston';
import { Collector } from '../../src/collector/collector';
import type { CollectedRecord, SequenceGap } from '../../src/collector/record';
import { verifyChain } from '../../src/collector/verify';
import { HAS_OPENSSL, generatePki, type TestPki } from './certs';
import { TcpClient, format5424, loginFail, newSource, octet, tempDir, waitFor } from './helpers';

// winston-syslog registers winston.transports.Syslog.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Syslog } = require('winston-syslog') as { Syslog: new (options: object) => winston.transport & { close(): void } };

const dir = tempDir();
afterAll(() => dir.remove());
let pki: TestPki;
if (!HAS_OPENSSL) console.warn('SKIPPED: openssl is absent (install openssl); the TLS listener tests did not run');
const itTls = HAS_OPENSSL ? it : it.skip;
beforeAll(() => {
  if (HAS_OPENSSL) pki = generatePki(dir.dir);
});

interface Running {
  collector: Collector;
  records: CollectedRecord[];
  gaps: SequenceGap[];
  filled: SequenceGap[];
  tcpPort: number;
  udpPort: number;
  tlsPort: number;
  path: string;
}

let counter = 0;
async function start(options: { tls?: boolean; requireClientCert?: boolean; handshakeMs?: number } = {}): Promise<Running> {
  const path = dir.file(`collector-${++counter}.db`);
  const records: CollectedRecord[] = [];
  const gaps: SequenceGap[] = [];
  const filled: SequenceGap[] = [];
  const collector = await Collector.start({
    dbPath: path,
    udp: { port: 0 },
    tcp: { port: 0 },
    tls: options.tls ? { port: 0, cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: options.requireClientCert } : false,
    store: { batchDelayMs: 5 },
    limits: options.handshakeMs === undefined ? {} : { tlsHandshakeTimeoutMs: options.handshakeMs },
    onRecord: (record) => records.push(record),
    onGap: (gap) => gaps.push(gap),
    onGapFilled: (gap) => filled.push(gap),
  });
  const addresses = collector.addresses();
  return { collector, records, gaps, filled, path, tcpPort: addresses.tcp?.port ?? 0, udpPort: addresses.udp?.port ?? 0, tlsPort: addresses.tls?.port ?? 0 };
}

describe('Collector', () => {
  it('listens on 127.0.0.1 by default host and reports its bound addresses', async () => {
    const run = await start({ tls: HAS_OPENSSL });
    expect(run.collector.addresses()).toEqual({
      tcp: { host: '127.0.0.1', port: run.tcpPort },
      udp: { host: '127.0.0.1', port: run.udpPort },
      ...(HAS_OPENSSL && { tls: { host: '127.0.0.1', port: run.tlsPort } }),
    });
    expect(run.collector.health()).toMatchObject({ ok: true, openConnections: 0, saturated: false, store: { lastId: 0 } });
    await run.collector.close();
    // Closed means closed: the port refuses.
    await expect(TcpClient.connect(run.tcpPort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('defaults to 127.0.0.1, UDP and TCP on 5514, TLS on 6514 (or says that port is taken)', async () => {
    const tlsOptions = HAS_OPENSSL ? { cert: pki.serverCert, key: pki.serverKey } : false;
    let collector: Collector | undefined;
    try {
      collector = await Collector.start({ dbPath: dir.file('defaults.db'), tls: tlsOptions });
    } catch (error) {
      // Another process on this machine holds a default port: the error names it.
      const { code, port, address } = error as { code?: string; port?: number; address?: string };
      expect(code).toBe('EADDRINUSE');
      expect([5514, 6514]).toContain(port);
      expect(address).toBe('127.0.0.1');
      return;
    }
    expect(collector.addresses()).toEqual({
      tcp: { host: '127.0.0.1', port: 5514 },
      udp: { host: '127.0.0.1', port: 5514 },
      ...(HAS_OPENSSL && { tls: { host: '127.0.0.1', port: 6514 } }),
    });
    await collector.close();
  });

  it('takes octet-counted events over TCP, stores them, then acknowledges the highest contiguous seq', async () => {
    const run = await start();
    const source = newSource();
    const events = Array.from({ length: 5 }, () => loginFail(source));
    const client = await TcpClient.connect(run.tcpPort);
    await client.write(Buffer.concat(events.map((event) => octet(format5424(event)))));
    await waitFor(() => client.acked(source.instance) === 5, 'ACK 5');
    // The ACK follows the commit: by then the records are stored and were handed out with ids.
    expect(run.records.map((record) => [record.id, record.event?.seq])).toEqual([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
    expect(run.records[0]).toMatchObject({ transport: 'tcp', format: 'rfc5424', host: 'shop-1', app: 'juice-shop', msgId: 'authn_login_fail', event: events[0] });
    expect(client.acks.every((line) => /^ACK [0-9a-f-]{36} \d+$/.test(line))).toBe(true);
    await client.close();
    await run.collector.close();
    expect(verifyChain(run.path)).toMatchObject({ ok: true, checked: 5 });
  });

  it('drops a replay as duplicates and still acknowledges it; holds the ACK below a gap until it is filled', async () => {
    const run = await start();
    const source = newSource();
    const events = Array.from({ length: 6 }, () => loginFail(source));
    const first = await TcpClient.connect(run.tcpPort);
    await first.write(Buffer.concat([0, 1, 4, 5].map((i) => octet(format5424(events[i])))));
    await waitFor(() => run.gaps.length === 1 && first.acks.length > 0, 'gap and ACK');
    expect(run.gaps[0]).toMatchObject({ host: 'shop-1', instance: source.instance, from: 3, to: 4 });
    expect(first.acked(source.instance)).toBe(2);
    // The sender reconnects and replays its window: 1..6, of which 3 and 4 are new.
    const replay = await TcpClient.connect(run.tcpPort);
    await replay.write(Buffer.concat(events.map((event) => octet(format5424(event)))));
    await waitFor(() => replay.acked(source.instance) === 6, 'ACK 6 after the replay');
    expect(run.filled).toEqual([expect.objectContaining({ from: 3, to: 4, filledAt: expect.any(String) })]);
    expect(run.records.map((record) => record.event?.seq)).toEqual([1, 2, 5, 6, 3, 4]);
    expect(run.collector.stats().rejected.duplicate).toBe(4);
    // A replay of stored events only (nothing to commit) is acknowledged too.
    const again = await TcpClient.connect(run.tcpPort);
    await again.write(octet(format5424(events[0])));
    await waitFor(() => again.acked(source.instance) === 6, 'ACK for a pure duplicate');
    expect(run.collector.store.sources()[0]).toMatchObject({ contiguousSeq: 6, duplicates: 5, openGaps: 0 });
    await Promise.all([first.close(), replay.close(), again.close()]);
    await run.collector.close();
  });

  it('sends the last ACK after the sender half-closes, then ends the connection', async () => {
    const run = await start();
    const source = newSource();
    const socket = net.connect({ port: run.tcpPort, host: '127.0.0.1' });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (received += text));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end(Buffer.concat([loginFail(source), loginFail(source)].map((event) => octet(format5424(event)))));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received).toBe(`ACK ${source.instance} 2\n`);
    await run.collector.close();
  });

  it('takes LF-terminated frames from senders that cannot count, and plain text, without ACKs', async () => {
    const run = await start();
    const client = await TcpClient.connect(run.tcpPort);
    await client.write('<13>1 2026-01-01T00:00:00Z host app - - - first\n<13>Oct 11 22:14:15 gw tag: second\nthird without PRI\n');
    await waitFor(() => run.records.length === 3, '3 records');
    expect(run.records.map((record) => [record.format, record.message])).toEqual([
      ['rfc5424', 'first'],
      ['rfc3164', 'second'],
      ['raw', 'third without PRI'],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.acks).toEqual([]);
    await client.close();
    await run.collector.close();
  });

  it('gives the same records when the stream arrives one byte per write', async () => {
    const run = await start();
    const source = newSource();
    const wires = [loginFail(source, { description: 'naïve ✓' }), loginFail(source)].map((event) => format5424(event));
    const client = await TcpClient.connect(run.tcpPort);
    for (const byte of Buffer.concat(wires.map((wire) => octet(wire)))) await client.write(Buffer.from([byte]));
    await waitFor(() => client.acked(source.instance) === 2, 'ACK 2');
    expect(run.records.map((record) => record.message)).toEqual(wires.map((wire) => wire.slice(wire.indexOf(' {') + 1)));
    await client.close();
    await run.collector.close();
  });

  it('takes RFC 3164 over UDP as the naive configuration sends it (winston-syslog 2.7.1)', async () => {
    const run = await start();
    const transport = new Syslog({ host: '127.0.0.1', port: run.udpPort, protocol: 'udp4', app_name: 'juice-shop', localhost: 'shop-1' });
    const logger = winston.createLogger({ levels: winston.config.syslog.levels, transports: [transport] });
    logger.warning('login failed', { email: 'jim@juice-sh.op' });
    await waitFor(() => run.records.length === 1, 'the UDP record');
    expect(run.records[0]).toMatchObject({
      transport: 'udp',
      format: 'rfc3164',
      facility: 16,
      severity: 4,
      host: 'shop-1',
      app: 'juice-shop',
      procId: String(process.pid),
      message: JSON.stringify({ email: 'jim@juice-sh.op', level: 'warning', message: 'login failed' }),
    });
    expect(run.records[0].timestamp).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}$/);
    // winston-syslog 2.7.1 counts the first (queued) UDP message in flight and never uncounts it, so its close()
    // polls for ~4 s; the message has arrived, so say so.
    (transport as unknown as { inFlight: number }).inFlight = 0;
    const transportClosed = new Promise((resolve) => transport.once('closed', resolve));
    transport.close();
    await transportClosed;
    await run.collector.close();
  });

  it('takes our events over UDP (one datagram, trailing LF dropped) and sends no ACK there', async () => {
    const run = await start();
    const source = newSource();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.send(`${format5424(loginFail(source))}\n`, run.udpPort, '127.0.0.1', () => resolve()));
    await waitFor(() => run.records.length === 1, 'the UDP event');
    expect(run.records[0].event?.seq).toBe(1);
    socket.close();
    await run.collector.close();
  });

  itTls('takes events over TLS (RFC 5425) and acknowledges them on the TLS connection', async () => {
    const run = await start({ tls: true });
    const source = newSource();
    const socket = tls.connect({ port: run.tlsPort, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' });
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    let acks = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (acks += text));
    socket.write(Buffer.concat([loginFail(source), loginFail(source), loginFail(source)].map((event) => octet(format5424(event)))));
    await waitFor(() => acks.includes(`ACK ${source.instance} 3\n`), 'ACK 3 over TLS');
    expect(run.records.map((record) => record.transport)).toEqual(['tls', 'tls', 'tls']);
    socket.destroy();
    await run.collector.close();
  });

  itTls('with requireClientCert, refuses a client without a certificate and takes one with', async () => {
    const run = await start({ tls: true, requireClientCert: true });
    const refused = tls.connect({ port: run.tlsPort, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' });
    refused.on('error', () => undefined);
    refused.on('secureConnect', () => refused.write(octet('<13>1 - - - - - - should not be stored')));
    await new Promise((resolve) => refused.once('close', resolve));
    await waitFor(() => run.collector.stats().rejected.tls_error >= 1, 'tls_error counted');

    const accepted = tls.connect({ port: run.tlsPort, host: '127.0.0.1', ca: pki.ca, servername: 'localhost', cert: pki.clientCert, key: pki.clientKey });
    await new Promise((resolve) => accepted.once('secureConnect', resolve));
    accepted.write(octet('<13>1 - - - - - - with a certificate'));
    await waitFor(() => run.records.length === 1, 'the record');
    expect(run.records.map((record) => record.message)).toEqual(['with a certificate']);
    accepted.destroy();
    await run.collector.close();
  });

  itTls('close() does not wait for a TLS handshake that never comes', async () => {
    const run = await start({ tls: true, handshakeMs: 120_000 });
    const silent = net.connect({ port: run.tlsPort, host: '127.0.0.1' });
    silent.on('error', () => undefined);
    await new Promise((resolve) => silent.once('connect', resolve));
    await waitFor(() => run.collector.stats().connections.open === 1, 'the raw connection counted');
    const closed = new Promise((resolve) => silent.once('close', resolve));
    // Within the test's timeout, far below the 120 s handshake deadline.
    await run.collector.close();
    await closed;
  });

  it('close() keeps what a connection had sent of an unfinished frame, and stops everything', async () => {
    const run = await start();
    const client = await TcpClient.connect(run.tcpPort);
    await client.write('500 <13>1 - - - - - - cut by shutdown');
    await waitFor(() => run.collector.health().openConnections === 1, 'the connection');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const clientClosed = new Promise((resolve) => client.socket.once('close', resolve));
    await run.collector.close();
    expect(run.records).toEqual([expect.objectContaining({ format: 'raw', message: '<13>1 - - - - - - cut by shutdown', flags: ['truncated'] })]);
    await clientClosed;
    expect(verifyChain(run.path)).toMatchObject({ ok: true, checked: 1 });
  });
});
