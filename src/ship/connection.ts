import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Backoff, type BackoffOptions } from './backoff';
import { frameOctetCounted } from './framing';

/**
 * The longest wait between reconnect attempts. It bounds how long a collector that is back waits for us:
 * with a 5 s cap, catch-up after an outage took 0.7-3.9 s and could pass 5 s; one attempt a second or two
 * against a collector that is down costs nothing worth saving.
 */
const RECONNECT_MAX_MS = 2000;

export type CollectorProtocol = 'tcp' | 'tls' | 'udp';

export interface CollectorTarget {
  protocol: CollectorProtocol;
  host: string;
  port: number;
}

const DEFAULT_PORTS: Record<CollectorProtocol, number> = { tcp: 514, udp: 514, tls: 6514 };

/** `tcp://host:port`, `tls://host:port` (RFC 5425, default port 6514) or `udp://host:port`. */
export function parseCollectorUrl(url: string): CollectorTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`collector URL ${JSON.stringify(url)} is not a URL`);
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  if (protocol !== 'tcp' && protocol !== 'tls' && protocol !== 'udp') {
    throw new TypeError(`collector URL ${JSON.stringify(url)}: the scheme must be tcp, tls or udp`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host.length === 0) throw new TypeError(`collector URL ${JSON.stringify(url)} has no host`);
  const port = parsed.port === '' ? DEFAULT_PORTS[protocol] : Number(parsed.port);
  return { protocol, host, port };
}

/** TLS towards the collector. Certificate and host name verification are always on; there is no switch. */
export interface CollectorTlsOptions {
  /** Trusted CA certificates (PEM); default Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key (PEM), for collectors that authenticate their senders. */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** The name the certificate must carry; default the URL's host (an IP is checked against IP SANs). */
  servername?: string;
  /** Default TLSv1.2. */
  minVersion?: tls.SecureVersion;
}

export interface ConnectionOptions {
  target: CollectorTarget;
  tls?: CollectorTlsOptions;
  /** Between reconnect attempts: from 100 ms, doubling, capped at 2 s (`maxMs`), with jitter. */
  backoff?: BackoffOptions;
  /** A connection attempt (TCP and TLS handshake) that takes longer fails; default 5 s. */
  connectTimeoutMs?: number;
  /** A collector that takes nothing for this long while we wait for 'drain' is dropped; default 30 s. */
  stallTimeoutMs?: number;
  /** UDP: datagrams handed to the kernel without their callback yet before we report backpressure; default 64. */
  udpMaxInflight?: number;
  /**
   * UDP has no flow control: a replay sent in one burst overflows the collector's receive buffer. At most
   * udpBurst datagrams per udpPaceMs (default 32 per 8 ms, 4000/s); 0 disables pacing.
   */
  udpBurst?: number;
  udpPaceMs?: number;
  /** UDP: larger messages are never sent (the transport shrinks them first); default 65507. */
  maxDatagramBytes?: number;
  /** A connection must stay up this long before the backoff starts again from the beginning; default 1 s. */
  stableAfterMs?: number;
}

type StreamSocket = net.Socket | tls.TLSSocket;

const ACK_LINE = /^ACK ([!-~]{1,255}) (\d{1,15})\r?$/;
const MAX_ACK_LINE = 512;

/**
 * One collector link that keeps itself up: connects, reconnects after any failure with capped backoff,
 * reports backpressure and reads the collector's `ACK <instance> <seq>` lines. It never emits 'error':
 * failures arrive as 'down' (error, wasUp), so no missing listener can crash the process.
 *
 * Events: 'up' (), 'down' (error: Error | undefined, wasUp: boolean), 'drain' (), 'ack' (instance, seq).
 */
export class CollectorConnection extends EventEmitter {
  readonly target: CollectorTarget;
  readonly backoff: Backoff;
  /** Successful connections and failed attempts since start. */
  connects = 0;
  failures = 0;
  /** UDP messages too large to send. */
  oversizeDropped = 0;
  lastError: Error | undefined;

  private readonly options: ConnectionOptions;
  private stream: StreamSocket | undefined;
  private datagram: dgram.Socket | undefined;
  private up = false;
  private upAt = 0;
  private awaitingDrain = false;
  private stopped = true;
  private inflight = 0;
  private burst = 0;
  private burstStart = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private ackText = '';
  private error: Error | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.target = options.target;
    this.backoff = new Backoff({ ...options.backoff, maxMs: options.backoff?.maxMs ?? RECONNECT_MAX_MS });
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Up and not waiting for 'drain'. */
  get writable(): boolean {
    return this.up && !this.awaitingDrain;
  }

  /** The most messages one send() should carry: UDP sends paced bursts, TCP takes any batch. */
  get batchLimit(): number {
    const burst = this.options.udpBurst ?? 32;
    return this.target.protocol === 'udp' && burst > 0 ? burst : Number.POSITIVE_INFINITY;
  }

  /** Bytes handed to the socket that it has not passed to the kernel yet (TCP/TLS). */
  get bufferedBytes(): number {
    return this.stream?.writableLength ?? 0;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  /**
   * Send messages (framed by octet counting on TCP/TLS, one datagram each on UDP). Returns false when the
   * caller must wait for 'drain' (or 'up') before sending more; what was passed is accepted either way.
   */
  send(messages: readonly Buffer[]): boolean {
    if (!this.up) return false;
    if (this.stream !== undefined) {
      const ok = this.stream.write(frameOctetCounted(messages));
      if (!ok) this.startWaitingForDrain();
      return ok;
    }
    const socket = this.datagram!;
    const limit = this.options.maxDatagramBytes ?? 65507;
    const maxInflight = this.options.udpMaxInflight ?? 64;
    for (const message of messages) {
      if (message.length > limit) {
        this.oversizeDropped++;
        continue;
      }
      this.inflight++;
      socket.send(message, (error) => this.datagramSent(socket, error));
    }
    const burstMax = this.options.udpBurst ?? 32;
    if (burstMax > 0) {
      const now = Date.now();
      if (now - this.burstStart >= (this.options.udpPaceMs ?? 8)) {
        this.burstStart = now;
        this.burst = 0;
      }
      this.burst += messages.length;
    }
    if (this.inflight >= maxInflight || (burstMax > 0 && this.burst >= burstMax)) {
      this.startWaitingForDrain();
      if (burstMax > 0 && this.burst >= burstMax && this.paceTimer === undefined) {
        const wait = Math.max(1, this.burstStart + (this.options.udpPaceMs ?? 8) - Date.now());
        this.paceTimer = setTimeout(() => {
          this.paceTimer = undefined;
          this.burst = 0;
          this.burstStart = Date.now();
          this.datagramMayDrain();
        }, wait);
        this.paceTimer.unref();
      }
      return false;
    }
    return true;
  }

  private datagramMayDrain(): void {
    const burstMax = this.options.udpBurst ?? 32;
    if (this.awaitingDrain && this.inflight <= (this.options.udpMaxInflight ?? 64) / 2 && (burstMax <= 0 || this.burst < burstMax)) this.drained();
  }

  /** Stop for good: close gracefully (written data reaches the kernel) within graceMs, then destroy. */
  async stop(graceMs = 1000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const stream = this.stream;
    const datagram = this.datagram;
    if (stream !== undefined) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      const within = async (ms: number): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        clearTimeout(timer);
      };
      if (this.up) {
        stream.end();
        await within(graceMs);
      }
      stream.destroy();
      // Its 'close' (and our 'down') come on a later tick: once stop() resolves, nothing more happens.
      await within(1000);
    }
    if (datagram !== undefined) {
      const deadline = Date.now() + graceMs;
      while (this.inflight > 0 && this.datagram === datagram && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (this.datagram === datagram) {
        const closed = new Promise<void>((resolve) => datagram.once('close', () => resolve()));
        try {
          datagram.close();
        } catch {
          // Already closing after an error: its 'close' is on the way.
        }
        await closed;
      }
    }
    this.clearTimers();
  }

  private open(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 5000;
    if (this.target.protocol === 'udp') this.openDatagram();
    else this.openStream();
    this.connectTimer = setTimeout(() => this.abort(new Error(`connect timeout after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    this.connectTimer.unref();
  }

  private openStream(): void {
    const { host, port, protocol } = this.target;
    let socket: StreamSocket;
    if (protocol === 'tls') {
      const options = this.options.tls ?? {};
      socket = tls.connect({
        host,
        port,
        // SNI must not carry an IP (RFC 6066); Node then verifies the IP against the certificate's IP SANs.
        servername: options.servername ?? (net.isIP(host) ? undefined : host),
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        passphrase: options.passphrase,
        minVersion: options.minVersion ?? 'TLSv1.2',
        rejectUnauthorized: true,
        checkServerIdentity: (name, cert) => tls.checkServerIdentity(options.servername ?? name, cert),
      });
    } else {
      socket = net.connect({ host, port });
    }
    this.stream = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', () => this.becameUp());
    socket.on('data', (chunk: Buffer) => this.readAcks(chunk));
    socket.on('drain', () => this.drained());
    socket.on('error', (error) => {
      this.error = error;
    });
    socket.on('close', () => {
      if (this.stream === socket) this.wentDown();
    });
  }

  private openDatagram(): void {
    const { host, port } = this.target;
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    this.datagram = socket;
    this.inflight = 0;
    // A connected UDP socket hears the ICMP "port unreachable" of a collector that is down.
    socket.on('error', (error) => this.abort(error));
    socket.on('close', () => {
      if (this.datagram === socket) this.wentDown();
    });
    socket.connect(port, host, () => this.becameUp());
  }

  private datagramSent(socket: dgram.Socket, error: Error | null): void {
    if (this.datagram !== socket) return;
    this.inflight--;
    if (error !== null && (error as NodeJS.ErrnoException).code === 'EMSGSIZE') {
      this.oversizeDropped++;
    } else if (error !== null) {
      this.abort(error);
      return;
    }
    this.datagramMayDrain();
  }

  private becameUp(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (this.stopped) return;
    this.up = true;
    this.upAt = Date.now();
    this.connects++;
    this.emit('up');
  }

  /** Tear the current socket down; its 'close' reports the failure. */
  private abort(error: Error): void {
    this.error ??= error;
    if (this.stream !== undefined) {
      this.stream.destroy(error);
    } else if (this.datagram !== undefined) {
      try {
        this.datagram.close();
      } catch {
        // Already closing: its 'close' is on the way.
      }
    }
  }

  private wentDown(): void {
    const wasUp = this.up;
    const error = this.error;
    this.clearTimers();
    this.stream = undefined;
    this.datagram = undefined;
    this.up = false;
    this.awaitingDrain = false;
    this.inflight = 0;
    this.ackText = '';
    this.error = undefined;
    this.lastError = error;
    if (!wasUp) this.failures++;
    // A connection that drops at once must not reset the backoff, or a flapping collector gets hammered.
    if (wasUp && Date.now() - this.upAt >= (this.options.stableAfterMs ?? 1000)) this.backoff.reset();
    this.emit('down', error, wasUp);
    if (!this.stopped) {
      this.retryTimer = setTimeout(() => this.open(), this.backoff.next());
      this.retryTimer.unref();
    }
  }

  private startWaitingForDrain(): void {
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    const stallTimeoutMs = this.options.stallTimeoutMs ?? 30_000;
    this.stallTimer = setTimeout(() => this.abort(new Error(`collector took nothing for ${stallTimeoutMs} ms`)), stallTimeoutMs);
    this.stallTimer.unref();
  }

  private drained(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    this.emit('drain');
  }

  /** `ACK <instance> <seq>\n` lines; anything else is ignored, and an endless line is dropped. */
  private readAcks(chunk: Buffer): void {
    let text = this.ackText + chunk.toString('latin1');
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      const match = ACK_LINE.exec(text.slice(0, newline));
      if (match !== null) this.emit('ack', match[1], Number(match[2]));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    this.ackText = text.length > MAX_ACK_LINE ? '' : text;
  }

  private clearTimers(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.stallTimer);
    clearTimeout(this.paceTimer);
    this.connectTimer = undefined;
    this.stallTimer = undefined;
    this.paceTimer = undefined;
  }
}
