// idle-gc-policy.ts decides when to ask for a full GC to free the garbage caching leaves: dropped segments and the copies values arrived in.

/** What the policy reads from the segment ledger at each tick. */
export interface SegmentReading {
  /** Segments allocated so far. */
  segments: number;
  /** Bytes of dropped segments waiting for a full GC (SegmentLedger.stats().droppedBytes). */
  droppedBytes: number;
  /** Bytes written into segments so far (SegmentLedger.stats().writtenBytes); default 0. With `segments` unchanged between two ticks, no value was cached meanwhile. */
  writtenBytes?: number;
  /** Bytes of store columns and index slots outgrown so far (SegmentLedger.stats().outgrownBytes); default 0. */
  outgrownBytes?: number;
  /** Bytes used in V8's old space now; default 0. */
  oldSpaceBytes?: number;
}

/**
 * What a tick decided: `quiet`, a collection once caching stopped, thorough enough to give the
 * freed pages back; `under-load`, a collection while values keep coming, to cap the garbage.
 */
export type Collection = 'quiet' | 'under-load';

export interface IdleGcPolicyOptions {
  /** Collect once at least this many bytes of garbage wait and no value was cached since the last tick. Default 16 MiB. */
  thresholdBytes?: number;
  /** Collect while values keep being cached once this much garbage waits. Default: never (V8's own full GCs). */
  busyThresholdBytes?: number;
}

/**
 * The garbage is estimated as the dropped segments plus the bytes written into segments since the
 * last collection: a cached value arrived in a buffer (a source's answer, a handoff) that is garbage
 * once copied in, and values larger than a few KiB outlive V8's young generation; the columns and
 * index slots a growing store replaced (external memory of up to twice the final columns, which
 * V8's young generation never sees); and the growth of V8's old space since the last collection,
 * where the garbage of requests that outlived two scavenges waits (the store keeps no object there, so that growth is mostly garbage). V8 runs a full GC
 * only after about 64 MiB of new external memory, so under eviction up to that much garbage sits in
 * RSS (1x a 64 MiB budget: docs/performance.md); `busyThresholdBytes` collects sooner. Once
 * eviction stops nothing triggers the next full GC, and the garbage stays for good (V8's memory
 * reducer is off: node-flags.ts). So: collect once when a tick finds no value cached since the last
 * one (no new segment and no byte written: 8-byte values fill a 1 MiB segment in seconds, and the
 * requests that cache them leave old-space garbage meanwhile) and at least `thresholdBytes` wait.
 * Segments the GC could not free (a slow client still reading a value) raise the floor the
 * threshold counts from, so they never cause a GC per tick.
 * The estimate may count garbage V8 already freed: that costs at most one needless GC per quiet spell,
 * since a quiet collection waits for a value to be cached first (hits alone never cause one).
 */
export class IdleGcPolicy {
  readonly thresholdBytes: number;
  readonly busyThresholdBytes: number;
  private lastSegments = -1;
  private lastWritten = -1;
  /** Dropped bytes that survived the last collection: the next one waits for threshold more than this. */
  private floor = 0;
  /** writtenBytes and outgrownBytes at the last collection. */
  private writtenAtCollection = 0;
  private outgrownAtCollection = 0;
  /** Old space used after the last collection (or at the first tick). */
  private oldSpaceAfterCollection = -1;
  private collected = false;
  /** A value was cached since the last collection: a quiet tick may collect. */
  private armed = false;

  constructor(options: IdleGcPolicyOptions = {}) {
    const thresholdBytes = options.thresholdBytes ?? 16 * 1024 * 1024;
    const busyThresholdBytes = options.busyThresholdBytes ?? Infinity;
    if (!Number.isSafeInteger(thresholdBytes) || thresholdBytes < 1) {
      throw new TypeError(`thresholdBytes must be a positive integer, got ${thresholdBytes}`);
    }
    if (busyThresholdBytes !== Infinity && (!Number.isSafeInteger(busyThresholdBytes) || busyThresholdBytes < thresholdBytes)) {
      throw new TypeError(`busyThresholdBytes must be an integer of at least thresholdBytes (${thresholdBytes}), got ${busyThresholdBytes}`);
    }
    this.thresholdBytes = thresholdBytes;
    this.busyThresholdBytes = busyThresholdBytes;
  }

  /** Called once per tick: which collection to run now, if any. */
  tick(reading: SegmentReading): Collection | undefined {
    const written = reading.writtenBytes ?? 0;
    const outgrown = reading.outgrownBytes ?? 0;
    const oldSpace = reading.oldSpaceBytes ?? 0;
    if (this.oldSpaceAfterCollection === -1) this.oldSpaceAfterCollection = oldSpace;
    const quiet = reading.segments === this.lastSegments && written === this.lastWritten;
    this.lastSegments = reading.segments;
    this.lastWritten = written;
    if (!quiet) this.armed = true;
    if (this.collected) {
      // The tick after a collection: what is still counted dropped was not freed by it.
      this.collected = false;
      this.floor = reading.droppedBytes;
      this.oldSpaceAfterCollection = oldSpace;
      return undefined;
    }
    this.floor = Math.min(this.floor, reading.droppedBytes);
    // A live old space that shrank (V8 collected on its own) is the new base.
    this.oldSpaceAfterCollection = Math.min(this.oldSpaceAfterCollection, oldSpace);
    const garbage =
      reading.droppedBytes - this.floor + (written - this.writtenAtCollection) + (outgrown - this.outgrownAtCollection) + (oldSpace - this.oldSpaceAfterCollection);
    if (quiet ? !this.armed || garbage < this.thresholdBytes : garbage < this.busyThresholdBytes) return undefined;
    this.collected = true;
    this.armed = false;
    this.writtenAtCollection = written;
    this.outgrownAtCollection = outgrown;
    return quiet ? 'quiet' : 'under-load';
  }
}

/**
 * Thresholds for a node whose groups' budgets add up to `budgetBytes`: idle, a sixteenth of it
 * (1 to 16 MiB); busy, a quarter (at least 8 MiB). Measured at a 64 MiB budget: docs/performance.md.
 */
export function thresholdsForBudget(budgetBytes: number): Required<IdleGcPolicyOptions> {
  const MiB = 1024 * 1024;
  const thresholdBytes = Math.round(Math.min(16 * MiB, Math.max(MiB, budgetBytes / 16)));
  return { thresholdBytes, busyThresholdBytes: Math.round(Math.max(8 * MiB, thresholdBytes, budgetBytes / 4)) };
}
