import { OTHER_PEERS } from './stats';

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * Token buckets per IP address (rate per second, burst of the same size). The map is capped: peers beyond
 * the cap share one bucket, so a flood from spoofed addresses costs no memory and is limited as one.
 */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly maxPeers: number,
  ) {}

  allow(ip: string, now: number): boolean {
    let bucket = this.buckets.get(ip);
    if (bucket === undefined) {
      const key = this.buckets.size >= this.maxPeers ? OTHER_PEERS : ip;
      bucket = this.buckets.get(key);
      if (bucket === undefined) {
        bucket = { tokens: this.perSecond, updated: now };
        this.buckets.set(key, bucket);
      }
    }
    if (now > bucket.updated) {
      bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.updated) * this.perSecond) / 1000);
      bucket.updated = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
