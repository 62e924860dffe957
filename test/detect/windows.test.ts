import fc from 'fast-check';
import { LruSlots } from '../../src/detect/slots';
import { DistinctWindows, ThresholdWindows, hash53 } from '../../src/detect/windows';

/** Naive reference: every event kept; times clamped per key to be non-decreasing, as the windows do. */
class NaiveWindows {
  private readonly times = new Map<string, Array<{ time: number; value: string }>>();

  add(key: string, time: number, value = ''): number {
    const list = this.times.get(key) ?? [];
    const newest = list.length > 0 ? list[list.length - 1].time : Number.NEGATIVE_INFINITY;
    const clamped = Math.max(time, newest);
    list.push({ time: clamped, value });
    this.times.set(key, list);
    return clamped;
  }

  countWithin(key: string, now: number, windowMs: number): number {
    return (this.times.get(key) ?? []).filter((e) => e.time >= now - windowMs && e.time <= now).length;
  }

  distinctWithin(key: string, now: number, windowMs: number): number {
    return new Set((this.times.get(key) ?? []).filter((e) => e.time >= now - windowMs && e.time <= now).map((e) => e.value)).size;
  }
}

const eventArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  delta: fc.integer({ min: -2000, max: 30000 }),
  value: fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'),
});

describe('ThresholdWindows against a naive reference', () => {
  it('reached() is exactly "at least threshold events within the window of the newest"', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1000, max: 90000 }), fc.array(eventArb, { maxLength: 200 }), (threshold, windowMs, events) => {
        const windows = new ThresholdWindows(16, threshold, windowMs);
        const naive = new NaiveWindows();
        let time = 1_000_000;
        events.forEach((e, i) => {
          time += e.delta;
          const slot = windows.add(e.key, time, i + 1, i + 1);
          const clamped = naive.add(e.key, time);
          const expected = naive.countWithin(e.key, clamped, windowMs) >= threshold;
          expect(windows.reached(slot)).toBe(expected);
          expect(windows.countWithin(slot, clamped)).toBe(Math.min(threshold, naive.countWithin(e.key, clamped, windowMs)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refs() returns the ring oldest first', () => {
    const windows = new ThresholdWindows(4, 3, 60000);
    let slot = 0;
    for (let i = 1; i <= 5; i++) slot = windows.add('k', i * 1000, 100 + i, i);
    expect(windows.refs(slot)).toEqual([
      { recordId: 103, seq: 3 },
      { recordId: 104, seq: 4 },
      { recordId: 105, seq: 5 },
    ]);
  });
});

describe('DistinctWindows against a naive reference', () => {
  it('counts distinct values within the window exactly, up to the threshold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1000, max: 90000 }), fc.array(eventArb, { maxLength: 200 }), (threshold, windowMs, events) => {
        const windows = new DistinctWindows(16, threshold, windowMs);
        const naive = new NaiveWindows();
        let time = 1_000_000;
        events.forEach((e, i) => {
          time += e.delta;
          const distinct = windows.add(e.key, e.value, time, i + 1, i + 1);
          const clamped = naive.add(e.key, time, e.value);
          expect(distinct).toBe(Math.min(threshold, naive.distinctWithin(e.key, clamped, windowMs)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('has no collisions among the values the property test uses', () => {
    const values = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    expect(new Set(values.map(hash53)).size).toBe(values.length);
  });
});

describe('bounded memory', () => {
  it('keeps at most the cap of 1M distinct keys and counts the evictions', () => {
    const cap = 5000;
    const windows = new ThresholdWindows(cap, 5, 60000);
    const distinct = new DistinctWindows(cap, 10, 60000);
    let time = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 1_000_000; i++) {
      time += 1;
      windows.add(`ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, time, i, i);
      distinct.add(`ip:${i}`, `email:${i}`, time, i, i);
    }
    expect(windows.size).toBe(cap);
    expect(distinct.size).toBe(cap);
    expect(windows.evictions).toBe(1_000_000 - cap);
    expect(distinct.evictions).toBe(1_000_000 - cap);
    // Storage is slabs for the cap, rounded up to whole chunks of 1024 slots, however many keys came.
    expect(windows.allocatedBytes).toBe(Math.ceil(cap / 1024) * 1024 * (3 + 3 * 5) * 8);
    // Every eviction happened within 60 s of the newest event: each was live, and counted as such.
    expect(windows.liveEvictions).toBe(1_000_000 - cap);
  });

  it('evicts the least recently used key, and a touched key survives', () => {
    const evicted: number[] = [];
    const slots = new LruSlots(3, (slot) => evicted.push(slot));
    const a = slots.touch('a');
    slots.touch('b');
    slots.touch('c');
    slots.touch('a');
    slots.touch('d');
    expect(slots.peek('b')).toBeUndefined();
    expect(slots.peek('a')).toBe(a);
    expect(slots.size).toBe(3);
    expect(slots.evictions).toBe(1);
    expect(evicted).toEqual([1]);
  });

  it('expire() forgets keys whose newest event left the window, and no others', () => {
    const windows = new ThresholdWindows(100, 3, 60000, undefined, () => 100_000);
    windows.add('old', 0, 1, 1);
    windows.add('recent', 50_000, 2, 2);
    windows.add('new', 100_000, 3, 3);
    expect(windows.expire(100_000)).toBe(1);
    expect(windows.find('old')).toBeUndefined();
    expect(windows.find('recent')).toBeDefined();
    expect(windows.find('new')).toBeDefined();
    expect(windows.evictions).toBe(0);
  });

  it('expire() runs on event time: old events replayed now keep their windows; idle time still expires them', () => {
    let clock = 10_000_000;
    const windows = new ThresholdWindows(100, 3, 60000, undefined, () => clock);
    // Events from an hour before the clock, arriving now (a sender's spool after an outage).
    windows.add('replayed', clock - 3_600_000, 1, 1);
    clock += 1000;
    expect(windows.expire(clock)).toBe(0);
    clock += 59_000;
    expect(windows.expire(clock)).toBe(0);
    clock += 1001;
    expect(windows.expire(clock)).toBe(1);
  });
});
