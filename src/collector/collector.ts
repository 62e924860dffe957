import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { StreamConnection, peerName, type ConnectionHost } from './connection';
import type { Frame } from './framing';
import {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_SYSLOG_PORT,
  DEFAULT_TLS_PORT,
  type CollectorLimits,
  type CollectorOptions,
} from './options';
import { parseFrame, type ParseNotes } from './parse';
import { PeerRateLimiter } from './rate-limit';
import type { CollectedRecord, SequenceGap, Transport } from './record';
import { CollectorCounters, type CollectorStats, type RejectReason } from './stats';
import { CollectorStore, type AckDue, type CommitSummary, type StoreHealth, type StoreListener } from './store';

export interface BoundAddress {
  host: string;
  port: number;
}

export interface CollectorAddresses {
  udp?: BoundAddress;
  tcp?: BoundAddress;
  tls?: BoundAddress;
}

export interface CollectorHealth {
  /** Listening, the store committing, intake not paused. */
  ok: boolean;
  startedAt: string;
  addresses: CollectorAddresses;
  openConnections: number;
  /** Intake paused because the store is behind. */
  saturated: boolean;
  store: StoreHealth;
}

/**
 * Subscribers get records after they are stored (ids set), gaps when found and when filled; onIntake gets
 * each record as it is taken, before its commit (see StoreListener.onIntake).
 */
export interface CollectorListener {
  onIntake?(record: CollectedRecord): void;
  onRecord?(record: CollectedRecord): void;
  onGap?(gap: SequenceGap): void;
  onGapFilled?(gap: SequenceGap): void;
}

const TRAILING = new Set([0x0a, 0x0d, 0x00]);

function ipOf(socket: net.Socket): string {
  return socket.remoteAddress ?? 'unknown';
}

/**
 * The syslog collector: UDP, TCP and TLS listeners feeding one store. Start with `Collector.start(options)`
 * (or `startCollector`), stop with `close()`.
 */
export class Collector {
  readonly store: CollectorStore;
  readonly limits: CollectorLimits;
  private readonly counters: CollectorCounters;
  private readonly udpLimiter: PeerRateLimiter;
  private readonly onError: (error: Error) => void;
  private readonly connections = new Set<StreamConnection>();
  private readonly peerConnections = new Map<string, number>();
  private readonly paused = new Set<StreamConnection>();
  /** Every admitted socket, TLS ones still in their handshake included: close() ends them all. */
  private readonly rawSockets = new Set<net.Socket>();
  private readonly notes: ParseNotes = { unparseable: false, invalidUtf8: false, invalidEvent: false };
  private tcpServer: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private udpSocket: dgram.Socket | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private bound: CollectorAddresses = {};
  private openRaw = 0;
  private closing = false;
  private storeClosed = false;
  private closePromise: Promise<void> | undefined;
  private readonly host: ConnectionHost;

  private constructor(private readonly options: CollectorOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.onError = options.onError ?? ((error) => process.stderr.write(`collector: ${error.message}\n`));
    this.counters = new CollectorCounters(this.limits.maxTrackedPeers);
    this.udpLimiter = new PeerRateLimiter(this.limits.udpPerPeerRate, this.limits.maxTrackedPeers);
    this.store = new CollectorStore({ ...options.store, path: options.dbPath, onError: this.onError });
    this.store.subscribe({ onCommit: (commit) => this.committed(commit) });
    this.host = {
      frame: (connection, frame) => this.frame(connection, frame),
      problem: (connection, reason) => this.counters.reject(reason, connection.ip),
      afterChunk: (connection) => this.afterChunk(connection),
      peerEnded: (connection) => this.peerEnded(connection),
      closed: (connection) => this.connectionClosed(connection),
    };
    const { onRecord, onGap, onGapFilled } = options;
    if (onRecord !== undefined || onGap !== undefined || onGapFilled !== undefined) this.subscribe({ onRecord, onGap, onGapFilled });
  }

  static async start(options: CollectorOptions): Promise<Collector> {
    const collector = new Collector(options);
    try {
      await collector.listen();
    } catch (error) {
      await collector.close();
      throw error;
    }
    return collector;
  }

  /** Listen for stored records and gaps; returns the unsubscribe function. */
  subscribe(listener: CollectorListener): () => void {
    const storeListener: StoreListener = {};
    if (listener.onIntake !== undefined) storeListener.onIntake = (record) => listener.onIntake?.(record);
    if (listener.onRecord !== undefined) storeListener.onRecord = (record) => listener.onRecord?.(record);
    if (listener.onGap !== undefined) storeListener.onGap = (gap) => listener.onGap?.(gap);
    if (listener.onGapFilled !== undefined) storeListener.onGapFilled = (gap) => listener.onGapFilled?.(gap);
    return this.store.subscribe(storeListener);
  }

  addresses(): CollectorAddresses {
    return { ...this.bound };
  }

  stats(): CollectorStats {
    return this.counters.snapshot();
  }

  health(): CollectorHealth {
    const store = this.store.health();
    const saturated = this.saturated;
    return {
      ok: !this.closing && !saturated && !store.failing,
      startedAt: this.counters.startedAt,
      addresses: this.addresses(),
      openConnections: this.connections.size,
      saturated,
      store,
    };
  }

  private get saturated(): boolean {
    return this.store.backlog >= this.limits.maxPendingRecords;
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? DEFAULT_HOST;
    const { udp, tcp, tls: tlsOptions } = this.options;
    if (tcp !== false) {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true });
      this.tcpServer = server;
      server.on('connection', (socket) => {
        if (this.admit(socket)) this.track(new StreamConnection(socket, 'tcp', this.host, this.limits));
      });
      this.bound.tcp = await listenStream(server, tcp?.host ?? host, tcp?.port ?? DEFAULT_SYSLOG_PORT);
    }
    if (tlsOptions !== undefined && tlsOptions !== false) {
      const requireCert = tlsOptions.requireClientCert === true;
      const server = tls.createServer({
        cert: tlsOptions.cert,
        key: tlsOptions.key,
        ca: tlsOptions.ca,
        requestCert: requireCert,
        rejectUnauthorized: requireCert,
        minVersion: 'TLSv1.2',
        handshakeTimeout: this.limits.tlsHandshakeTimeoutMs,
        allowHalfOpen: true,
      });
      this.tlsServer = server;
      server.on('connection', (socket: net.Socket) => {
        this.admit(socket);
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        if (socket.destroyed) return;
        if (this.closing) {
          socket.destroy();
          return;
        }
        this.track(new StreamConnection(socket, 'tls', this.host, this.limits));
      });
      server.on('tlsClientError', (_error, socket) => this.counters.reject('tls_error', ipOf(socket)));
      this.bound.tls = await listenStream(server, tlsOptions.host ?? host, tlsOptions.port ?? DEFAULT_TLS_PORT);
    }
    if (udp !== false) {
      const udpHost = udp?.host ?? host;
      const socket = dgram.createSocket({ type: net.isIPv6(udpHost) ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      this.udpSocket = socket;
      socket.on('message', (message, remote) => this.datagram(message, remote));
      socket.on('error', (error) => this.onError(error));
      this.bound.udp = await new Promise<BoundAddress>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(udp?.port ?? DEFAULT_SYSLOG_PORT, udpHost, () => {
          socket.off('error', reject);
          const address = socket.address();
          resolve({ host: address.address, port: address.port });
        });
      });
    }
    const interval = Math.max(50, Math.min(1000, Math.floor(this.limits.frameTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), interval);
    this.sweeper.unref();
  }

  /** Connection limits, counted on the raw socket so a TLS handshake that never ends still counts. */
  private admit(socket: net.Socket): boolean {
    const ip = ipOf(socket);
    const fromPeer = this.peerConnections.get(ip) ?? 0;
    let refusal: RejectReason | undefined;
    if (this.closing || socket.remoteAddress === undefined) refusal = 'connection_limit';
    else if (this.openRaw >= this.limits.maxConnections) refusal = 'connection_limit';
    else if (fromPeer >= this.limits.maxConnectionsPerPeer) refusal = 'peer_connection_limit';
    if (refusal !== undefined) {
      this.counters.reject(refusal, ip);
      socket.on('error', () => undefined);
      socket.destroy();
      return false;
    }
    this.openRaw++;
    this.rawSockets.add(socket);
    this.peerConnections.set(ip, fromPeer + 1);
    this.counters.connectionOpened(ip);
    socket.once('close', () => {
      this.openRaw--;
      this.rawSockets.delete(socket);
      const left = (this.peerConnections.get(ip) ?? 1) - 1;
      if (left <= 0) this.peerConnections.delete(ip);
      else this.peerConnections.set(ip, left);
      this.counters.connectionClosed(ip);
    });
    return true;
  }

  private track(connection: StreamConnection): void {
    this.connections.add(connection);
    if (this.saturated) this.pause(connection);
  }

  private pause(connection: StreamConnection): void {
    connection.pause();
    this.paused.add(connection);
  }

  private frame(connection: StreamConnection, frame: Frame): void {
    this.ingest(frame.data, frame.truncated, connection.transport, connection.peer, connection.ip, connection.receivedAt, connection);
  }

  private afterChunk(connection: StreamConnection): void {
    if (this.saturated && !this.paused.has(connection)) this.pause(connection);
  }

  /** The sender half-closed: its last ACKs go out with the commit of what it sent, then our side ends. */
  private peerEnded(connection: StreamConnection): void {
    if (this.storeClosed) return;
    void this.store.settled().then(() => {
      if (!connection.socket.destroyed) connection.socket.end();
    });
  }

  private connectionClosed(connection: StreamConnection): void {
    this.connections.delete(connection);
    this.paused.delete(connection);
  }

  private datagram(message: Buffer, remote: dgram.RemoteInfo): void {
    if (this.closing) return;
    const now = Date.now();
    const ip = remote.address;
    if (!this.udpLimiter.allow(ip, now)) {
      this.counters.reject('udp_rate_limited', ip);
      return;
    }
    if (this.saturated) {
      this.counters.reject('backlog', ip);
      return;
    }
    // One datagram is one message; senders often end it with LF (or NUL).
    let end = message.length;
    while (end > 0 && TRAILING.has(message[end - 1])) end--;
    if (end === 0) {
      this.counters.reject('empty_frame', ip);
      return;
    }
    let truncated = false;
    if (end > this.limits.maxFrameBytes) {
      end = this.limits.maxFrameBytes;
      truncated = true;
      this.counters.reject('oversize', ip);
    }
    this.ingest(message.subarray(0, end), truncated, 'udp', peerName(ip, remote.port), ip, new Date(now).toISOString(), undefined);
  }

  private ingest(
    data: Buffer,
    truncated: boolean,
    transport: Transport,
    peer: string,
    ip: string,
    receivedAt: string,
    connection: StreamConnection | undefined,
  ): void {
    if (this.storeClosed) return;
    const notes = this.notes;
    this.counters.frame(transport, ip, data.length, Date.now());
    const record = parseFrame(data, { receivedAt, transport, peer, truncated }, notes);
    if (notes.unparseable && !truncated) this.counters.reject('unparseable', ip);
    if (notes.invalidUtf8) this.counters.reject('invalid_utf8', ip);
    if (notes.invalidEvent) this.counters.reject('invalid_event', ip);
    let outcome;
    try {
      // Only senders of our events hear ACKs: rsyslog or logger relaying other messages get none.
      outcome = this.store.add(record, record.event !== undefined ? connection : undefined);
    } catch (error) {
      this.onError(error as Error);
      return;
    }
    if (outcome === 'duplicate') this.counters.reject('duplicate', ip);
    else this.counters.accepted();
  }

  /** After a commit: ACKs out, paused connections resumed. */
  private committed(commit: CommitSummary): void {
    if (commit.acks.length > 0) this.sendAcks(commit.acks);
    if (this.paused.size > 0 && !this.saturated) {
      for (const connection of this.paused) connection.resume();
      this.paused.clear();
    }
  }

  private sendAcks(acks: AckDue[]): void {
    const lines = new Map<StreamConnection, string[]>();
    for (const ack of acks) {
      if (!(ack.target instanceof StreamConnection) || ack.seq <= 0) continue;
      let list = lines.get(ack.target);
      if (list === undefined) lines.set(ack.target, (list = []));
      list.push(`ACK ${ack.instance} ${ack.seq}\n`);
    }
    for (const [connection, list] of lines) {
      if (connection.writeAcks(list.join(''), this.limits.maxAckBacklogBytes)) this.counters.acks(list.length, 0);
      else this.counters.acks(0, list.length);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      const since = connection.partialFrameSince;
      if (since !== 0 && now - since >= this.limits.frameTimeoutMs) connection.abort('frame_timeout');
    }
  }

  /** Stop listening, keep what connections had sent of a frame, commit, close the store. */
  close(): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise;
    this.closing = true;
    this.closePromise = (async () => {
      if (this.sweeper !== undefined) clearInterval(this.sweeper);
      const waits: Array<Promise<void>> = [];
      for (const server of [this.tcpServer, this.tlsServer]) {
        if (server !== undefined && server.listening) waits.push(new Promise((resolve) => server.close(() => resolve())));
      }
      for (const connection of [...this.connections]) connection.abort(undefined);
      for (const socket of [...this.rawSockets]) socket.destroy();
      if (this.udpSocket !== undefined) {
        const socket = this.udpSocket;
        waits.push(new Promise((resolve) => socket.close(() => resolve())));
      }
      await Promise.all(waits);
      this.storeClosed = true;
      await this.store.close();
    })();
    return this.closePromise;
  }
}

async function listenStream(server: net.Server, host: string, port: number): Promise<BoundAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const address = server.address() as net.AddressInfo;
  return { host: address.address, port: address.port };
}

/** Start a collector: `const collector = await startCollector({ dbPath })`; `await collector.close()`. */
export function startCollector(options: CollectorOptions): Promise<Collector> {
  return Collector.start(options);
}
