import type { Transport } from './record';

/**
 * What the collector refused, cut or flagged, by reason. Some are dropped, some kept with a flag:
 * - dropped: `connection_limit`, `peer_connection_limit` (connection refused), `duplicate` (an event already
 *   stored), `udp_rate_limited`, `backlog` (UDP while the store is saturated), `empty_frame`;
 * - kept as records: `oversize` and `frame_timeout` (raw, flagged truncated), `bad_octet_count` (raw),
 *   `unparseable` (raw), `invalid_utf8` (replaced, flagged), `invalid_event` (our SD-ID, MSG no complete event);
 * - connections closed: `idle_timeout`, `frame_timeout`, `tls_error`, `socket_error`.
 */
export const REJECT_REASONS = [
  'connection_limit',
  'peer_connection_limit',
  'idle_timeout',
  'frame_timeout',
  'tls_error',
  'socket_error',
  'oversize',
  'bad_octet_count',
  'empty_frame',
  'unparseable',
  'invalid_utf8',
  'invalid_event',
  'duplicate',
  'udp_rate_limited',
  'backlog',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export type ReasonCounts = Record<RejectReason, number>;

export interface PeerStats {
  /** The sender's IP address; `(other)` gathers peers beyond the tracking cap. */
  peer: string;
  frames: number;
  bytes: number;
  rejected: Partial<ReasonCounts>;
  openConnections: number;
  lastSeen: string;
}

export interface CollectorStats {
  startedAt: string;
  frames: Record<Transport, number>;
  bytes: Record<Transport, number>;
  /** Records handed to the store (duplicates excluded). */
  accepted: number;
  rejected: ReasonCounts;
  connections: { open: number; peak: number; accepted: number };
  /** ACK lines written back, and lines not written because the peer stopped reading (rsyslog, logger). */
  acks: { written: number; skipped: number };
  peers: PeerStats[];
}

export const OTHER_PEERS = '(other)';

interface PeerCounters {
  frames: number;
  bytes: number;
  rejected: Partial<ReasonCounts>;
  openConnections: number;
  lastSeen: number;
}

function zeroReasons(): ReasonCounts {
  const counts = {} as ReasonCounts;
  for (const reason of REJECT_REASONS) counts[reason] = 0;
  return counts;
}

/** Counters, global and per peer IP; the per-peer map is capped so a spoofed flood cannot grow it. */
export class CollectorCounters {
  readonly startedAt = new Date().toISOString();
  private readonly frames: Record<Transport, number> = { udp: 0, tcp: 0, tls: 0 };
  private readonly bytes: Record<Transport, number> = { udp: 0, tcp: 0, tls: 0 };
  private readonly rejected = zeroReasons();
  private readonly peers = new Map<string, PeerCounters>();
  private acceptedRecords = 0;
  private openConnections = 0;
  private peakConnections = 0;
  private acceptedConnections = 0;
  private acksWritten = 0;
  private acksSkipped = 0;

  constructor(private readonly maxTrackedPeers: number) {}

  private peer(ip: string): PeerCounters {
    let counters = this.peers.get(ip);
    if (counters === undefined) {
      const key = this.peers.size >= this.maxTrackedPeers ? OTHER_PEERS : ip;
      counters = this.peers.get(key);
      if (counters === undefined) {
        counters = { frames: 0, bytes: 0, rejected: {}, openConnections: 0, lastSeen: 0 };
        this.peers.set(key, counters);
      }
    }
    return counters;
  }

  frame(transport: Transport, ip: string, bytes: number, now: number): void {
    this.frames[transport]++;
    this.bytes[transport] += bytes;
    const peer = this.peer(ip);
    peer.frames++;
    peer.bytes += bytes;
    peer.lastSeen = now;
  }

  accepted(): void {
    this.acceptedRecords++;
  }

  reject(reason: RejectReason, ip: string): void {
    this.rejected[reason]++;
    const peer = this.peer(ip);
    if (peer.lastSeen === 0) peer.lastSeen = Date.now();
    peer.rejected[reason] = (peer.rejected[reason] ?? 0) + 1;
  }

  acks(written: number, skipped: number): void {
    this.acksWritten += written;
    this.acksSkipped += skipped;
  }

  connectionOpened(ip: string): void {
    this.openConnections++;
    this.acceptedConnections++;
    if (this.openConnections > this.peakConnections) this.peakConnections = this.openConnections;
    this.peer(ip).openConnections++;
  }

  connectionClosed(ip: string): void {
    this.openConnections--;
    this.peer(ip).openConnections--;
  }

  snapshot(): CollectorStats {
    const peers: PeerStats[] = [];
    for (const [peer, counters] of this.peers) {
      peers.push({
        peer,
        frames: counters.frames,
        bytes: counters.bytes,
        rejected: { ...counters.rejected },
        openConnections: counters.openConnections,
        lastSeen: new Date(counters.lastSeen).toISOString(),
      });
    }
    return {
      startedAt: this.startedAt,
      frames: { ...this.frames },
      bytes: { ...this.bytes },
      accepted: this.acceptedRecords,
      rejected: { ...this.rejected },
      connections: { open: this.openConnections, peak: this.peakConnections, accepted: this.acceptedConnections },
      acks: { written: this.acksWritten, skipped: this.acksSkipped },
      peers,
    };
  }
}
