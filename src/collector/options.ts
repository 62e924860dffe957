import type { CollectedRecord, SequenceGap } from './record';
import type { StoreOptions } from './store';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_SYSLOG_PORT = 5514;
export const DEFAULT_TLS_PORT = 6514;

export interface ListenAddress {
  /** Default 127.0.0.1: the collector is not reachable from elsewhere unless told. */
  host?: string;
  /** Default 5514 (UDP, TCP) or 6514 (TLS); 0 picks a free port. */
  port?: number;
}

export interface TlsListenOptions extends ListenAddress {
  /** PEM certificate chain and private key (contents, not paths). */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA certificates for client certificates (mutual TLS, RFC 5425 5.3). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask senders for a certificate and refuse those without a valid one. */
  requireClientCert?: boolean;
}

/** Limits against hostile senders. */
export interface CollectorLimits {
  /** Largest frame kept; longer ones are cut here and flagged truncated (default 256 KiB). */
  maxFrameBytes: number;
  /** Open TCP/TLS connections in all (default 2048). */
  maxConnections: number;
  /** Open TCP/TLS connections from one IP address (default 256). */
  maxConnectionsPerPeer: number;
  /** A connection that sends nothing for this long is closed (default 120 s). */
  idleTimeoutMs: number;
  /** A frame that is still incomplete after this long is kept as truncated and the connection closed (default 30 s). */
  frameTimeoutMs: number;
  /** TLS handshake deadline (default 10 s). */
  tlsHandshakeTimeoutMs: number;
  /** UDP datagrams per second accepted from one IP address, with an equal burst (default 20000). */
  udpPerPeerRate: number;
  /** Peers tracked individually in the counters and rate limits; the rest share one bucket (default 10000). */
  maxTrackedPeers: number;
  /** ACK lines waiting in a connection's send buffer beyond this are not written (default 64 KiB). */
  maxAckBacklogBytes: number;
  /** Records waiting for the store before TCP/TLS reading pauses and UDP is shed (default 20000). */
  maxPendingRecords: number;
}

export const DEFAULT_LIMITS: CollectorLimits = {
  maxFrameBytes: 256 * 1024,
  maxConnections: 2048,
  maxConnectionsPerPeer: 256,
  idleTimeoutMs: 120_000,
  frameTimeoutMs: 30_000,
  tlsHandshakeTimeoutMs: 10_000,
  udpPerPeerRate: 20_000,
  maxTrackedPeers: 10_000,
  maxAckBacklogBytes: 64 * 1024,
  maxPendingRecords: 20_000,
};

export interface CollectorOptions {
  /** The SQLite file. */
  dbPath: string;
  /** Default host for the listeners below (default 127.0.0.1). */
  host?: string;
  /** UDP listener; default on port 5514; false turns it off. */
  udp?: ListenAddress | false;
  /** TCP listener (octet counting and LF framing); default on port 5514; false turns it off. */
  tcp?: ListenAddress | false;
  /** TLS listener (RFC 5425); off unless a certificate is given; default port 6514. */
  tls?: TlsListenOptions | false;
  limits?: Partial<CollectorLimits>;
  store?: Omit<StoreOptions, 'path' | 'onError'>;
  onRecord?: (record: CollectedRecord) => void;
  onGap?: (gap: SequenceGap) => void;
  onGapFilled?: (gap: SequenceGap) => void;
  /** Failures the collector survives (store commit retried, a listener threw). Default: a line on stderr. */
  onError?: (error: Error) => void;
}
