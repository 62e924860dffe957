import { LruSlots, SlotSlab } from './slots';

/** What an alert can point back to: the stored record and, when it was one of ours, the event's seq. */
export interface EvidenceRef {
  recordId: number;
  /** 0 when the record carried no event. */
  seq: number;
}

/** Bookkeeping shared by the windowed stores: capacity, evictions, expiry. */
abstract class KeyedWindows {
  protected readonly slots: LruSlots;
  protected readonly slab: SlotSlab;
  /** The newest time any key of this store has seen (ms), and the clock when it was seen. */
  protected latest = Number.NEGATIVE_INFINITY;
  private latestAt = Number.NaN;
  /** Evicted keys whose window still held events: detection was blinded for them. */
  liveEvictions = 0;

  protected constructor(
    capacity: number,
    stride: number,
    readonly windowMs: number,
    /** Float index, within a slot, of the slot's newest time. */
    private readonly newestOffset: number,
    onLiveEviction?: () => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.slab = new SlotSlab(stride);
    this.slots = new LruSlots(capacity, (slot) => {
      if (this.newestOf(slot) >= this.latest - this.windowMs) {
        this.liveEvictions++;
        onLiveEviction?.();
      }
    });
  }

  get size(): number {
    return this.slots.size;
  }

  get evictions(): number {
    return this.slots.evictions;
  }

  get allocatedBytes(): number {
    return this.slab.allocatedBytes;
  }

  protected newestOf(slot: number): number {
    return this.slab.chunk(slot)[this.slab.base(slot) + this.newestOffset];
  }

  /** Advance the store's newest time (event time) and note the clock, for expire(). */
  protected advance(time: number): void {
    if (time > this.latest) {
      this.latest = time;
      this.latestAt = this.clock();
    }
  }

  /**
   * Forget keys whose newest event is out of the window. Keys sit in least-recently-used order, which is
   * close to newest-time order, so the sweep stops at the first key still in its window.
   * Windows run on event time; "now" in event time is the newest event time plus the clock time since it
   * arrived. So an idle store expires, and a replay of old events (a sender's spool) keeps its windows.
   */
  expire(clockMs: number): number {
    if (Number.isNaN(this.latestAt)) return 0;
    const cutoff = this.latest + Math.max(0, clockMs - this.latestAt) - this.windowMs;
    let forgotten = 0;
    for (let slot = this.slots.oldest; slot >= 0 && this.newestOf(slot) < cutoff; slot = this.slots.oldest) {
      this.slots.delete(this.slots.keyOf(slot) as string);
      forgotten++;
    }
    return forgotten;
  }
}

/**
 * "At least `threshold` events for a key within `windowMs`", exactly, with a ring of the key's last
 * `threshold` event times: the condition holds when the ring is full and its oldest time is within the
 * window of the newest. Times per key are clamped to be non-decreasing (an event that arrives late
 * counts as of the newest time seen), which keeps the ring sorted.
 *
 * Slot layout: [head, size, newest, time x T, recordId x T, seq x T].
 */
export class ThresholdWindows extends KeyedWindows {
  constructor(
    capacity: number,
    readonly threshold: number,
    windowMs: number,
    onLiveEviction?: () => void,
    clock?: () => number,
  ) {
    super(capacity, 3 + 3 * threshold, windowMs, 2, onLiveEviction, clock);
  }

  /** Record an event for a key; returns the slot, for `reached` and `refs`. */
  add(key: string, timeMs: number, recordId: number, seq: number): number {
    const slot = this.slots.touch(key);
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    const capacity = this.threshold;
    if (this.slots.created) {
      data[base] = 0;
      data[base + 1] = 0;
      data[base + 2] = Number.NEGATIVE_INFINITY;
    }
    const time = timeMs > data[base + 2] ? timeMs : data[base + 2];
    data[base + 2] = time;
    this.advance(time);
    const head = data[base];
    const size = data[base + 1];
    let at: number;
    if (size < capacity) {
      at = (head + size) % capacity;
      data[base + 1] = size + 1;
    } else {
      at = head;
      data[base] = (head + 1) % capacity;
    }
    data[base + 3 + at] = time;
    data[base + 3 + capacity + at] = recordId;
    data[base + 3 + 2 * capacity + at] = seq;
    return slot;
  }

  /** Whether the key's last `threshold` events all fall within `windowMs` of its newest. */
  reached(slot: number): boolean {
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    if (data[base + 1] < this.threshold) return false;
    const oldest = data[base + 3 + data[base]];
    return oldest >= data[base + 2] - this.windowMs;
  }

  /** Events of the key within `windowMs` of `timeMs` (at most `threshold`: the ring keeps no more). */
  countWithin(slot: number, timeMs: number): number {
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    const capacity = this.threshold;
    const head = data[base];
    const size = data[base + 1];
    let count = 0;
    for (let i = 0; i < size; i++) {
      const time = data[base + 3 + ((head + i) % capacity)];
      if (time >= timeMs - this.windowMs && time <= timeMs) count++;
    }
    return count;
  }

  /** The slot of a key without creating it. */
  find(key: string): number | undefined {
    return this.slots.peek(key);
  }

  /** Empty the key's ring (a sequence that completed starts over). */
  reset(slot: number): void {
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    data[base] = 0;
    data[base + 1] = 0;
  }

  /** The events in the key's ring, oldest first. */
  refs(slot: number): EvidenceRef[] {
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    const capacity = this.threshold;
    const head = data[base];
    const size = data[base + 1];
    const refs: EvidenceRef[] = [];
    for (let i = 0; i < size; i++) {
      const at = (head + i) % capacity;
      refs.push({ recordId: data[base + 3 + capacity + at], seq: data[base + 3 + 2 * capacity + at] });
    }
    return refs;
  }
}

/**
 * "At least `threshold` distinct values for a key within `windowMs`" (accounts tried from one address),
 * exactly up to hash collisions (53-bit hashes), keeping only `threshold` entries per key: the most
 * recently seen distinct values. A value that was pushed out was older than every value kept, so it
 * has always left the window before any kept value does.
 *
 * Slot layout: [count, newest, (hash, time, recordId, seq) x T].
 */
export class DistinctWindows extends KeyedWindows {
  constructor(
    capacity: number,
    readonly threshold: number,
    windowMs: number,
    onLiveEviction?: () => void,
    clock?: () => number,
  ) {
    super(capacity, 2 + 4 * threshold, windowMs, 1, onLiveEviction, clock);
  }

  /** Record a value for a key; returns the number of distinct values within the window (<= threshold). */
  add(key: string, value: string, timeMs: number, recordId: number, seq: number): number {
    const slot = this.slots.touch(key);
    this.lastSlot = slot;
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    if (this.slots.created) {
      data[base] = 0;
      data[base + 1] = Number.NEGATIVE_INFINITY;
    }
    const time = timeMs > data[base + 1] ? timeMs : data[base + 1];
    data[base + 1] = time;
    this.advance(time);
    const hash = hash53(value);
    const since = time - this.windowMs;
    let count = data[base];
    // Drop entries that left the window, compacting the rest.
    let kept = 0;
    let found = -1;
    for (let i = 0; i < count; i++) {
      const entry = base + 2 + 4 * i;
      if (data[entry + 1] < since) continue;
      const target = base + 2 + 4 * kept;
      if (target !== entry) {
        data[target] = data[entry];
        data[target + 1] = data[entry + 1];
        data[target + 2] = data[entry + 2];
        data[target + 3] = data[entry + 3];
      }
      if (data[target] === hash) found = kept;
      kept++;
    }
    count = kept;
    let at: number;
    if (found >= 0) {
      at = found;
    } else if (count < this.threshold) {
      at = count++;
    } else {
      at = 0;
      for (let i = 1; i < count; i++) {
        if (data[base + 2 + 4 * i + 1] < data[base + 2 + 4 * at + 1]) at = i;
      }
    }
    const entry = base + 2 + 4 * at;
    data[entry] = hash;
    data[entry + 1] = time;
    data[entry + 2] = recordId;
    data[entry + 3] = seq;
    data[base] = count;
    return count;
  }

  /** The slot the last add() used. */
  lastSlot = 0;

  /** The events behind the kept values, oldest first. */
  refs(slot: number): EvidenceRef[] {
    const data = this.slab.chunk(slot);
    const base = this.slab.base(slot);
    const entries: Array<{ time: number; ref: EvidenceRef }> = [];
    for (let i = 0; i < data[base]; i++) {
      const entry = base + 2 + 4 * i;
      entries.push({ time: data[entry + 1], ref: { recordId: data[entry + 2], seq: data[entry + 3] } });
    }
    return entries.sort((a, b) => a.time - b.time).map((e) => e.ref);
  }
}

/** FNV-1a 32 and a second multiplicative hash, combined into 53 bits (exact in a float). */
export function hash53(value: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x85ebca6b) ^ (h2 >>> 13);
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}
