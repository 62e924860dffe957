import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Backoff } from '../../src/ship/backoff';
import { CollectorConnection, parseCollectorUrl, type ConnectionOptions } from '../../src/ship/connection';
import { parseOctetCounted } from '../../src/ship/framing';
import { SyslogTransport } from '../../src/ship/transport';
import { freePort, makeEvents, tempDir, waitFor } from './helpers';
import { parseRfc5424 } from './rfc5424-parser';
import { hasOpenssl, makeTestPki, type TestPki } from './tls-certs';

const connections: CollectorConnection[] = [];
function connect(options: ConnectionOptions): CollectorConnection {
  const connection = new CollectorConnection(options);
  connections.push(connection);
  connection.start();
  return connection;
}
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.stop(100)));
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as net.AddressInfo).port;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('parseCollectorUrl', () => {
  it('reads tcp, tls and udp URLs with default ports', () => {
    expect(parseCollectorUrl('tcp://127.0.0.1:1514')).toEqual({ protocol: 'tcp', host: '127.0.0.1', port: 1514 });
    expect(parseCollectorUrl('tls://collector.example')).toEqual({ protocol: 'tls', host: 'collector.example', port: 6514 });
    expect(parseCollectorUrl('udp://[::1]:514')).toEqual({ protocol: 'udp', host: '::1', port: 514 });
    expect(() => parseCollectorUrl('http://x:1')).toThrow(/tcp, tls or udp/);
    expect(() => parseCollectorUrl('not a url')).toThrow(TypeError);
  });
});

describe('reconnect after an outage', () => {
  it('reaches a collector that is back within about 2 s, however long it was down (default cap)', async () => {
    const port = await freePort();
    // Worst-case jitter (each delay its full ceiling) with the default cap: 100, 200, 400, 800, 1600, 2000, 2000
    // (with a 5 s cap the seventh wait would be 5000).
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port }, backoff: { random: () => 0.999999 } });
    await waitFor(() => connection.backoff.attempts >= 7, 20_000, 'seven refused attempts');
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const back = Date.now();
    try {
      await waitFor(() => connection.isUp, 10_000, 'the reconnect');
      // The wait in progress is at most 2 s; the rest is headroom for a loaded machine.
      expect(Date.now() - back).toBeLessThan(3_500);
    } finally {
      await connection.stop(100);
      await closeServer(server);
    }
  }, 30_000);
});

describe('Backoff', () => {
  it('doubles from the initial delay, never passes the cap, stays within [d/2, d], resets', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 5000, random: () => 0 });
    const high = new Backoff({ initialMs: 100, maxMs: 5000, random: () => 0.999999 });
    const lows = Array.from({ length: 60 }, () => low.next());
    const highs = Array.from({ length: 60 }, () => high.next());
    expect(highs.slice(0, 7)).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
    expect(lows.slice(0, 3)).toEqual([50, 100, 200]);
    expect(Math.max(...highs)).toBe(5000);
    expect(Math.min(...lows.slice(10))).toBe(2500);
    const random = new Backoff({ initialMs: 10, maxMs: 1000 });
    for (let i = 0; i < 1000; i++) {
      const delay = random.next();
      expect(delay).toBeLessThanOrEqual(1000);
      expect(delay).toBeGreaterThanOrEqual(5);
    }
    expect(random.attempts).toBe(1000);
    random.reset();
    expect(random.next()).toBeLessThanOrEqual(10);
  });
});

describe('CollectorConnection over TCP', () => {
  it('keeps retrying with backoff while nothing listens, then connects and resets the backoff', async () => {
    const port = await freePort();
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port }, backoff: { initialMs: 5, maxMs: 40 } });
    const downs: Array<[string | undefined, boolean]> = [];
    connection.on('down', (error: Error | undefined, wasUp: boolean) => downs.push([(error as NodeJS.ErrnoException | undefined)?.code, wasUp]));
    await waitFor(() => connection.failures >= 5, 10_000, 'five failed attempts');
    expect(downs.every(([code, wasUp]) => code === 'ECONNREFUSED' && !wasUp)).toBe(true);
    expect(connection.isUp).toBe(false);
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    await waitFor(() => connection.isUp, 10_000, 'connection');
    expect(connection.backoff.attempts).toBeGreaterThanOrEqual(5);
    connection.stop(100);
    await closeServer(server);
  });

  it('frames messages by octet counting and reads ACK lines split across packets', async () => {
    let received = Buffer.alloc(0);
    let peer: net.Socket | undefined;
    const server = net.createServer((socket) => {
      peer = socket;
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    });
    const port = await listen(server);
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port } });
    const acks: Array<[string, number]> = [];
    connection.on('ack', (instance: string, seq: number) => acks.push([instance, seq]));
    await waitFor(() => connection.isUp && peer !== undefined);
    expect(connection.send([Buffer.from('first\nline'), Buffer.from('zweite ü')])).toBe(true);
    await waitFor(() => parseOctetCounted(received).messages.length === 2);
    expect(parseOctetCounted(received).messages.map(String)).toEqual(['first\nline', 'zweite ü']);
    peer!.write('ACK inst-1 4');
    peer!.write('2\nnoise line\nACK bad\nACK inst-2 7\r\n');
    peer!.write(`${'x'.repeat(2000)}\nACK inst-1 43\n`);
    await waitFor(() => acks.length === 3);
    expect(acks).toEqual([
      ['inst-1', 42],
      ['inst-2', 7],
      ['inst-1', 43],
    ]);
    await connection.stop(500);
    await closeServer(server);
  });

  it('reports backpressure from a collector that stops reading, and drains when it reads again', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      socket.pause();
      sockets.push(socket);
    });
    const port = await listen(server);
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port } });
    await waitFor(() => connection.isUp && sockets.length === 1);
    const block = Buffer.alloc(64 * 1024, 0x61);
    let batches = 0;
    while (connection.send([block])) batches++;
    expect(connection.writable).toBe(false);
    expect(batches).toBeLessThan(10_000);
    const drained = new Promise<void>((resolve) => connection.once('drain', () => resolve()));
    let got = 0;
    sockets[0].on('data', (chunk: Buffer) => (got += chunk.length));
    sockets[0].resume();
    await drained;
    expect(connection.writable).toBe(true);
    await waitFor(() => got >= (batches + 1) * block.length);
    await connection.stop(500);
    await closeServer(server);
  });

  it('drops a collector that takes nothing for stallTimeoutMs and reconnects', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      socket.pause();
      socket.on('error', () => undefined);
      sockets.push(socket);
    });
    const port = await listen(server);
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port }, stallTimeoutMs: 200, backoff: { initialMs: 5, maxMs: 20 } });
    await waitFor(() => connection.isUp);
    const down = new Promise<Error | undefined>((resolve) => connection.once('down', (error: Error | undefined) => resolve(error)));
    while (connection.send([Buffer.alloc(64 * 1024)]));
    expect((await down)?.message).toMatch(/took nothing/);
    await waitFor(() => sockets.length === 2 && connection.isUp, 10_000, 'reconnect');
    await connection.stop(100);
    for (const socket of sockets) socket.destroy();
    await closeServer(server);
  });

  it('stop() ends the socket and cancels retries', async () => {
    const port = await freePort();
    const connection = connect({ target: { protocol: 'tcp', host: '127.0.0.1', port }, backoff: { initialMs: 5, maxMs: 10 } });
    await waitFor(() => connection.failures >= 2);
    await connection.stop(100);
    const failures = connection.failures;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connection.failures).toBe(failures);
  });
});

describe('CollectorConnection over UDP', () => {
  it('sends one datagram per message, never one beyond the datagram limit', async () => {
    const server = dgram.createSocket('udp4');
    const got: string[] = [];
    server.on('message', (message) => got.push(message.toString()));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    const connection = connect({ target: { protocol: 'udp', host: '127.0.0.1', port: server.address().port }, maxDatagramBytes: 1000 });
    await waitFor(() => connection.isUp);
    connection.send([Buffer.from('one\nstill one'), Buffer.alloc(1001, 0x62), Buffer.from('two')]);
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['one\nstill one', 'two']);
    expect(connection.oversizeDropped).toBe(1);
    await connection.stop(100);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('paces datagrams: a burst larger than udpBurst waits for drain, and everything arrives', async () => {
    const server = dgram.createSocket('udp4');
    let got = 0;
    server.on('message', () => got++);
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    const connection = connect({ target: { protocol: 'udp', host: '127.0.0.1', port: server.address().port }, udpBurst: 8, udpPaceMs: 5 });
    await waitFor(() => connection.isUp);
    expect(connection.batchLimit).toBe(8);
    let sent = 0;
    let waits = 0;
    while (sent < 64) {
      const more = connection.send(Array.from({ length: 8 }, () => Buffer.from(`d${sent}`)));
      sent += 8;
      if (!more) {
        waits++;
        await new Promise<void>((resolve) => connection.once('drain', () => resolve()));
      }
    }
    await waitFor(() => got === 64);
    expect(waits).toBeGreaterThan(0);
    await connection.stop(100);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('hears that nobody listens (ICMP port unreachable) and goes down to retry', async () => {
    const port = await freePort();
    const connection = connect({ target: { protocol: 'udp', host: '127.0.0.1', port }, backoff: { initialMs: 5, maxMs: 20 } });
    const down = new Promise<Error | undefined>((resolve) => connection.once('down', (error: Error | undefined) => resolve(error)));
    await waitFor(() => connection.isUp);
    const timer = setInterval(() => connection.send([Buffer.from('anyone?')]), 5);
    try {
      expect(((await down) as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
    } finally {
      clearInterval(timer);
    }
  });
});

const describeTls = hasOpenssl() ? describe : describe.skip;
if (!hasOpenssl()) {
  console.warn('SKIPPED: TLS tests need the openssl CLI (Debian package openssl) to mint test certificates');
}

describeTls('CollectorConnection over TLS (RFC 5425)', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(() => {
    dir = tempDir('a09-pki-');
    pki = makeTestPki(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function tlsServer(options: tls.TlsOptions): Promise<{ server: tls.Server; port: number; received: () => string }> {
    let received = '';
    const server = tls.createServer(options, (socket) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('error', () => undefined);
    });
    server.on('tlsClientError', () => undefined);
    const port = await listen(server);
    return { server, port, received: () => received };
  }

  async function outcome(connection: CollectorConnection): Promise<{ up: boolean; code?: string }> {
    return new Promise((resolve) => {
      connection.once('up', () => resolve({ up: true }));
      connection.once('down', (error: Error | undefined) => resolve({ up: false, code: (error as NodeJS.ErrnoException | undefined)?.code }));
    });
  }

  it('accepts the collector certificate signed by the configured CA and sends over it', async () => {
    const { server, port, received } = await tlsServer({ ...pki.server });
    const connection = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca } });
    expect(await outcome(connection)).toEqual({ up: true });
    connection.send([Buffer.from('<110>1 - - - - - - over tls')]);
    await waitFor(() => received() === '27 <110>1 - - - - - - over tls');
    await connection.stop(500);
    await closeServer(server);
  });

  it('a tls:// SyslogTransport delivers spooled, octet-counted RFC 5424 over the verified connection', async () => {
    let stream = Buffer.alloc(0);
    const server = tls.createServer({ ...pki.server }, (socket) => {
      socket.on('data', (chunk: Buffer) => (stream = Buffer.concat([stream, chunk])));
      socket.on('error', () => undefined);
    });
    const port = await listen(server);
    const spoolDir = tempDir();
    const ship = new SyslogTransport({ collector: `tls://127.0.0.1:${port}`, tls: { ca: pki.ca }, spoolDir, closeTimeoutMs: 500 });
    try {
      for (const event of makeEvents(20)) ship.log({ level: 'info', message: '', event }, () => undefined);
      await waitFor(() => parseOctetCounted(stream).messages.length === 20);
      const seqs = parseOctetCounted(stream).messages.map((message) => parseRfc5424(message.toString()).sd.find((e) => e.id === 'meta')!.params[0][1]);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    } finally {
      await ship.close();
      await closeServer(server);
      fs.rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it("rejects an attacker's self-signed certificate with the right names, and sends nothing", async () => {
    const { server, port, received } = await tlsServer({ ...pki.attacker });
    const connection = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca }, backoff: { initialMs: 1000 } });
    expect(await outcome(connection)).toEqual({ up: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(connection.send([Buffer.from('secret')])).toBe(false);
    expect(received()).toBe('');
    await connection.stop(100);
    await closeServer(server);
  });

  it('a tls:// SyslogTransport facing the attacker keeps every event in its spool and sends none', async () => {
    const { server, port, received } = await tlsServer({ ...pki.attacker });
    const spoolDir = tempDir();
    const ship = new SyslogTransport({ collector: `tls://127.0.0.1:${port}`, tls: { ca: pki.ca }, spoolDir, closeTimeoutMs: 100, backoff: { initialMs: 5, maxMs: 20 } });
    try {
      for (const event of makeEvents(10)) ship.log({ level: 'info', message: '', event }, () => undefined);
      await waitFor(() => ship.stats().failedAttempts >= 3);
      expect(ship.stats()).toMatchObject({ appended: 10, sent: 0, unsent: 10, connected: false });
      expect(received()).toBe('');
    } finally {
      await ship.close();
      await closeServer(server);
      fs.rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it("rejects the attacker's certificate with Node's default CAs too", async () => {
    const { server, port } = await tlsServer({ ...pki.attacker });
    const connection = connect({ target: { protocol: 'tls', host: 'localhost', port }, backoff: { initialMs: 1000 } });
    expect(await outcome(connection)).toEqual({ up: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await connection.stop(100);
    await closeServer(server);
  });

  it('rejects a CA-signed certificate for another host name, unless that name is configured', async () => {
    const { server, port } = await tlsServer({ ...pki.otherHost });
    const wrong = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca }, backoff: { initialMs: 1000 } });
    expect(await outcome(wrong)).toEqual({ up: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const named = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca, servername: 'collector.other.example' } });
    expect(await outcome(named)).toEqual({ up: true });
    await wrong.stop(100);
    await named.stop(100);
    await closeServer(server);
  });

  it('presents a client certificate to a collector that requires one', async () => {
    const { server, port, received } = await tlsServer({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
    const withCert = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca, ...pki.client } });
    expect(await outcome(withCert)).toEqual({ up: true });
    withCert.send([Buffer.from('mutual')]);
    await waitFor(() => received() === '6 mutual');
    const without = connect({ target: { protocol: 'tls', host: '127.0.0.1', port }, tls: { ca: pki.ca }, backoff: { initialMs: 1000 } });
    // TLS 1.3: the client may finish its handshake first and learn of the refusal when the server closes.
    const refused = new Promise<void>((resolve) => without.once('down', () => resolve()));
    without.once('up', () => without.send([Buffer.from('anonymous')]));
    await refused;
    expect(received()).toBe('6 mutual');
    await withCert.stop(500);
    await without.stop(100);
    await closeServer(server);
  });
});
