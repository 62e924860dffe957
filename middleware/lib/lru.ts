/**
 * A bounded least-recently-used map: per-account and per-token state must not grow with what an attacker
 * sends. A Map keeps insertion order, so the first key is the least recently used one.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** The key set or refreshed last (the Map's last entry), while it is in the map. */
  private newest: K | undefined;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // The newest entry stays where it is: a delete and a set per hit leave holes that Map must compact
    // (a brute force repeats the same account, and this runs on its every request).
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** Reads without refreshing the entry's age. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    const present = this.entries.has(key);
    if (present && key === this.newest) {
      this.entries.set(key, value);
      return;
    }
    if (present) this.entries.delete(key);
    else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
    this.newest = key;
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.entries.delete(key);
  }
}
