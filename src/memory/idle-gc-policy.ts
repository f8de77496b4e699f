// idle-gc-policy.ts decides when a cache that has stopped evicting should ask for a full GC to free its emptied slabs.

/** What the policy reads from the slab arena at each tick. */
export interface ArenaReading {
  /** Slabs started so far: unchanged between two ticks means no new values were cached meanwhile. */
  slabs: number;
  /** Bytes of emptied slabs waiting for a full GC (SlabArena.stats().emptySlabBytes). */
  emptySlabBytes: number;
}

export interface IdleGcPolicyOptions {
  /** Collect once at least this many bytes of emptied slabs wait and the arena is quiet. Default 16 MiB. */
  thresholdBytes?: number;
}

/**
 * V8 runs a full GC after about 64 MiB of new external memory, so an evicting cache always
 * carries up to that much of emptied slabs; while it keeps evicting that is the price of not
 * copying on every hit. Once eviction stops, nothing triggers the next full GC, and the
 * emptied slabs stay in RSS for good (V8's own idle-time collector, the memory reducer, is
 * off: node-flags.ts). So: collect once when a tick finds no new slab since the last one and
 * at least `thresholdBytes` emptied. Slabs the GC could not free (a slow client still reading
 * a value) raise the floor the threshold counts from, so they never cause a GC per tick.
 */
export class IdleGcPolicy {
  readonly thresholdBytes: number;
  private lastSlabs = -1;
  /** Emptied bytes that survived the last collection: the next one waits for threshold more than this. */
  private floor = 0;
  private collected = false;

  constructor(options: IdleGcPolicyOptions = {}) {
    const thresholdBytes = options.thresholdBytes ?? 16 * 1024 * 1024;
    if (!Number.isSafeInteger(thresholdBytes) || thresholdBytes < 1) {
      throw new TypeError(`thresholdBytes must be a positive integer, got ${thresholdBytes}`);
    }
    this.thresholdBytes = thresholdBytes;
  }

  /** Called once per tick: whether to collect now. */
  tick(reading: ArenaReading): boolean {
    const quiet = reading.slabs === this.lastSlabs;
    this.lastSlabs = reading.slabs;
    if (this.collected) {
      // The tick after a collection: what is still counted empty was not freed by it.
      this.collected = false;
      this.floor = reading.emptySlabBytes;
      return false;
    }
    this.floor = Math.min(this.floor, reading.emptySlabBytes);
    if (!quiet || reading.emptySlabBytes - this.floor < this.thresholdBytes) return false;
    this.collected = true;
    return true;
  }
}
