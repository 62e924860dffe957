/**
 * A capped key -> slot index with least-recently-used eviction. The per-key state lives in typed-array
 * slabs indexed by slot (see windows.ts), so a key costs one Map entry plus a fixed number of floats:
 * a flood of distinct keys evicts old ones instead of growing memory.
 *
 * Recency is a doubly linked list in typed arrays, not Map re-insertion: evicting a Map's first entry
 * over and over makes V8 scan the holes left by deletions (microseconds per key under a flood).
 */
export class LruSlots {
  private readonly index = new Map<string, number>();
  private keys: (string | undefined)[] = [];
  private newerOf: Int32Array;
  private olderOf: Int32Array;
  /** Most and least recently used slots; -1 when empty. */
  private newest = -1;
  private oldestSlot = -1;
  private readonly free: number[] = [];
  private nextSlot = 0;
  /** Keys pushed out to make room. */
  evictions = 0;
  /** Whether the last touch() created its key (the caller then initialises the slot). */
  created = false;

  constructor(
    readonly capacity: number,
    /** Called with the slot before it is reused, so the owner can tell whether the state was still live. */
    private readonly onEvict?: (slot: number) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    const initial = Math.min(capacity, 1024);
    this.newerOf = new Int32Array(initial);
    this.olderOf = new Int32Array(initial);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot of a key, without creating it or changing its recency. */
  peek(key: string): number | undefined {
    return this.index.get(key);
  }

  /**
   * The slot of a key, marked most recently used; a new key past capacity takes the least recently used
   * key's slot. Returns a number (no allocation per event); read `created` right after.
   */
  touch(key: string): number {
    const existing = this.index.get(key);
    if (existing !== undefined) {
      if (existing !== this.newest) {
        this.unlink(existing);
        this.linkNewest(existing);
      }
      this.created = false;
      return existing;
    }
    let slot: number;
    if (this.free.length > 0) {
      slot = this.free.pop() as number;
    } else if (this.nextSlot < this.capacity) {
      slot = this.nextSlot++;
      if (slot >= this.newerOf.length) this.grow();
    } else {
      slot = this.oldestSlot;
      this.index.delete(this.keys[slot] as string);
      this.unlink(slot);
      this.evictions++;
      this.onEvict?.(slot);
    }
    this.keys[slot] = key;
    this.index.set(key, slot);
    this.linkNewest(slot);
    this.created = true;
    return slot;
  }

  /** Drop a key; its slot is reused by the next new key. */
  delete(key: string): void {
    const slot = this.index.get(key);
    if (slot === undefined) return;
    this.index.delete(key);
    this.unlink(slot);
    this.keys[slot] = undefined;
    this.free.push(slot);
  }

  /** The least recently used slot, or -1. */
  get oldest(): number {
    return this.oldestSlot;
  }

  /** The next more recently used slot, or -1. */
  newer(slot: number): number {
    return this.newerOf[slot];
  }

  keyOf(slot: number): string | undefined {
    return this.keys[slot];
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.newerOf.length * 2);
    const newer = new Int32Array(size);
    newer.set(this.newerOf);
    const older = new Int32Array(size);
    older.set(this.olderOf);
    this.newerOf = newer;
    this.olderOf = older;
  }

  private unlink(slot: number): void {
    const newer = this.newerOf[slot];
    const older = this.olderOf[slot];
    if (newer >= 0) this.olderOf[newer] = older;
    else this.newest = older;
    if (older >= 0) this.newerOf[older] = newer;
    else this.oldestSlot = newer;
  }

  private linkNewest(slot: number): void {
    this.newerOf[slot] = -1;
    this.olderOf[slot] = this.newest;
    if (this.newest >= 0) this.newerOf[this.newest] = slot;
    this.newest = slot;
    if (this.oldestSlot < 0) this.oldestSlot = slot;
  }
}

const CHUNK_SLOTS = 1024;

/**
 * Fixed-stride float storage per slot, allocated in chunks as slots are first used: memory follows the
 * number of live keys (up to the cap), not the cap itself.
 */
export class SlotSlab {
  private readonly chunks: Float64Array[] = [];

  constructor(readonly stride: number) {}

  /** The chunk holding a slot (allocated on first use). */
  chunk(slot: number): Float64Array {
    const chunkIndex = (slot / CHUNK_SLOTS) | 0;
    let data = this.chunks[chunkIndex];
    while (data === undefined) {
      this.chunks.push(new Float64Array(CHUNK_SLOTS * this.stride));
      data = this.chunks[chunkIndex];
    }
    return data;
  }

  /** Offset of the slot's first float in its chunk. */
  base(slot: number): number {
    return (slot % CHUNK_SLOTS) * this.stride;
  }

  get allocatedBytes(): number {
    return this.chunks.length * CHUNK_SLOTS * this.stride * 8;
  }
}
