// idle-gc-policy.ts decides when a cache that has stopped evicting should ask for a full GC to free its dropped segments.

/** What the policy reads from the segment ledger at each tick. */
export interface SegmentReading {
  /** Segments allocated so far: unchanged between two ticks means no new values were cached meanwhile. */
  segments: number;
  /** Bytes of dropped segments waiting for a full GC (SegmentLedger.stats().droppedBytes). */
  droppedBytes: number;
}

export interface IdleGcPolicyOptions {
  /** Collect once at least this many bytes of dropped segments wait and no segment was allocated since the last tick. Default 16 MiB. */
  thresholdBytes?: number;
}

/**
 * V8 runs a full GC after about 64 MiB of new external memory, so an evicting cache always
 * carries up to that much of dropped segments (store/segments.ts); while it keeps evicting that is
 * the price of handing out views of bytes that are never overwritten. Once eviction stops, nothing
 * triggers the next full GC, and the dropped segments stay in RSS for good (V8's own idle-time collector, the memory reducer, is
 * off: node-flags.ts). So: collect once when a tick finds no new segment since the last one and
 * at least `thresholdBytes` dropped. Segments the GC could not free (a slow client still reading
 * a value) raise the floor the threshold counts from, so they never cause a GC per tick.
 */
export class IdleGcPolicy {
  readonly thresholdBytes: number;
  private lastSegments = -1;
  /** Dropped bytes that survived the last collection: the next one waits for threshold more than this. */
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
  tick(reading: SegmentReading): boolean {
    const quiet = reading.segments === this.lastSegments;
    this.lastSegments = reading.segments;
    if (this.collected) {
      // The tick after a collection: what is still counted dropped was not freed by it.
      this.collected = false;
      this.floor = reading.droppedBytes;
      return false;
    }
    this.floor = Math.min(this.floor, reading.droppedBytes);
    if (!quiet || reading.droppedBytes - this.floor < this.thresholdBytes) return false;
    this.collected = true;
    return true;
  }
}
