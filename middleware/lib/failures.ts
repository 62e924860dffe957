import { normaliseEmail } from '../../src/events';
import { LruMap } from './lru';

interface FailureRecord {
  count: number;
  last: number;
  maxReported: boolean;
}

export interface FailureTrackerOptions {
  windowMs: number;
  maxAccounts: number;
  now: () => number;
}

/** Failed logins per account within a window, in bounded memory (least recently failed accounts drop out). */
export class FailureTracker {
  private readonly records: LruMap<string, FailureRecord>;

  constructor(private readonly options: FailureTrackerOptions) {
    this.records = new LruMap(options.maxAccounts);
  }

  /** Count a failure; returns the count within the window and whether this failure is the first to reach `max`. */
  fail(email: string, max: number): { count: number; reachedMax: boolean } {
    const key = normaliseEmail(email);
    const now = this.options.now();
    // get() refreshes the entry's age: a failure within the window updates the record in place.
    let record = this.records.get(key);
    if (record === undefined || now - record.last > this.options.windowMs) {
      record = { count: 0, last: now, maxReported: false };
      this.records.set(key, record);
    }
    record.count++;
    record.last = now;
    const reachedMax = record.count >= max && !record.maxReported;
    if (reachedMax) record.maxReported = true;
    return { count: record.count, reachedMax };
  }

  /** Failures within the window before this success; forgets them (a success closes the series). */
  succeed(email: string): number {
    const key = normaliseEmail(email);
    const record = this.records.peek(key);
    if (record === undefined) return 0;
    this.records.delete(key);
    return this.options.now() - record.last <= this.options.windowMs ? record.count : 0;
  }
}
