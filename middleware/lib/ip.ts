import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** `::ffff:127.0.0.1` -> `127.0.0.1`: one address, one spelling. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export interface ClientAddress {
  /** The client as far as we can trust: the socket peer, or the nearest untrusted hop behind trusted proxies. */
  ip: string;
  /** The socket peer. */
  peer: string;
  /** X-Forwarded-For as sent (capped), recorded apart because anyone can write it. */
  forwardedFor?: string;
}

const MAX_FORWARDED_LENGTH = 512;

/**
 * The socket peer is the address a client cannot forge. X-Forwarded-For is believed only hop by hop from
 * the right, and only while each hop is a configured trusted proxy.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: ReadonlySet<string>, headers = req.headers): ClientAddress {
  const peer = normaliseAddress(req.socket?.remoteAddress ?? 'unknown');
  const header = headers['x-forwarded-for'];
  const forwarded = Array.isArray(header) ? header.join(', ') : header;
  if (forwarded === undefined || forwarded === '') return { ip: peer, peer };
  const forwardedFor = forwarded.length > MAX_FORWARDED_LENGTH ? forwarded.slice(0, MAX_FORWARDED_LENGTH) : forwarded;
  let ip = peer;
  if (trustedProxies.size > 0 && trustedProxies.has(peer)) {
    const hops = forwarded.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normaliseAddress((hops[i] ?? '').trim());
      if (isIP(hop) === 0) break; // not an address: stop believing the chain here
      ip = hop;
      if (!trustedProxies.has(hop)) break;
    }
  }
  return { ip, peer, forwardedFor };
}
