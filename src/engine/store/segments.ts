// segments.ts packs the compact store's key and value bytes into large ArrayBuffers that are written once and never changed.
import type { SegmentLedger } from '../../memory/segment-ledger.js';

/** Default segment size: 1 MiB, so a segment's bookkeeping is noise beside its bytes. */
export const DEFAULT_SEGMENT_BYTES = 1 << 20;

/**
 * Records are appended front to back into the active segment; a record's bytes are never
 * overwritten, so a view of them handed out for a response in flight stays right after the record
 * is removed or moved. A dropped segment is only unreferenced: the garbage collector frees it once
 * no view points into it. A record larger than an eighth of a segment gets an ArrayBuffer of its
 * own (a segment id like the others), which caps the tail a segment wastes when the next record
 * does not fit.
 *
 * Dead bytes (removed records and the unused tails of sealed segments) are counted per segment;
 * the store copies the live records out of the sparsest sealed segments when `needsCompaction`.
 */
export class Segments {
  /** Per segment id: its bytes, or undefined for a free id. */
  private readonly buffers: (Uint8Array | undefined)[] = [];
  /** Per segment id: bytes handed out so far. */
  private readonly used: number[] = [];
  /** Per segment id: bytes of removed records (and the unused tail once sealed). */
  private readonly dead: number[] = [];
  /** Per segment id: records still in it. A segment with none is dropped once sealed. */
  private readonly records: number[] = [];
  private readonly freeIds: number[] = [];
  /** The segment new records go to, or -1 before the first. */
  private active = -1;
  /** Bytes of records in use. */
  liveBytes = 0;
  /** Dead bytes in sealed segments (the active one's are reclaimed only once it is sealed). */
  sealedDeadBytes = 0;
  /** Bytes of all segments held, live, dead or not yet used. */
  heldBytes = 0;
  /** Where the last `allocate` put its record. */
  lastOffset = 0;

  constructor(
    readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
    /** Where the node counts its segments until the GC frees them; none by default. */
    private readonly ledger?: SegmentLedger,
  ) {
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 64 || segmentBytes > 0xffffffff) {
      throw new TypeError(`segmentBytes must be an integer from 64 to 2^32-1, got ${segmentBytes}`);
    }
  }

  /** Bytes of `segment`; the caller writes a new record's bytes, and never again. */
  bytesOf(segment: number): Uint8Array {
    return this.buffers[segment]!;
  }

  /** Reserves `length` bytes; returns the segment id, the offset is in `lastOffset`. */
  allocate(length: number): number {
    this.liveBytes += length;
    this.ledger?.written(length);
    if (length > this.segmentBytes / 8) {
      const own = this.open(length);
      this.used[own] = length;
      this.records[own] = 1;
      this.lastOffset = 0;
      return own;
    }
    if (this.active === -1 || this.used[this.active]! + length > this.segmentBytes) {
      if (this.active !== -1) this.seal(this.active);
      this.active = this.open(this.segmentBytes);
    }
    const segment = this.active;
    this.lastOffset = this.used[segment]!;
    this.used[segment]! += length;
    this.records[segment]!++;
    return segment;
  }

  /** A record of `length` bytes in `segment` is no longer used. */
  release(segment: number, length: number): void {
    this.liveBytes -= length;
    this.dead[segment]! += length;
    const sealed = segment !== this.active;
    if (sealed) this.sealedDeadBytes += length;
    if (--this.records[segment]! === 0 && sealed) this.drop(segment);
  }

  /**
   * Dead bytes in sealed segments exceed an eighth of the live bytes plus one segment. Then all
   * segments together hold at most 9/8 of the live bytes plus two segments (the active one and the
   * slack): the bound is docs/compact-store.md's, chosen to leave most of the pod's 1.5x to V8.
   */
  needsCompaction(): boolean {
    return this.sealedDeadBytes > this.liveBytes / 8 + this.segmentBytes;
  }

  /**
   * The sealed segments to empty, sparsest first, enough to bring the dead bytes down to a
   * sixteenth of the live ones: the hysteresis makes each compaction free at least that much,
   * so the store's scan of its entries is paid for by many removals. Indexed by segment id: 1 for chosen.
   */
  sparsest(): Uint8Array {
    const candidates: number[] = [];
    for (let id = 0; id < this.buffers.length; id++) {
      if (this.buffers[id] !== undefined && id !== this.active && this.dead[id]! > 0) candidates.push(id);
    }
    const liveShare = (id: number) => (this.used[id]! - this.dead[id]!) / this.used[id]!;
    candidates.sort((a, b) => liveShare(a) - liveShare(b));
    const chosen = new Uint8Array(this.buffers.length);
    let dead = this.sealedDeadBytes;
    for (const id of candidates) {
      if (dead <= this.liveBytes / 16) break;
      chosen[id] = 1;
      dead -= this.dead[id]!;
    }
    return chosen;
  }

  /** Segments in use (the active one, sealed ones and records of their own). */
  get count(): number {
    return this.buffers.length - this.freeIds.length;
  }

  clear(): void {
    for (let id = 0; id < this.buffers.length; id++) if (this.buffers[id] !== undefined) this.free(id);
    this.active = -1;
    this.liveBytes = this.sealedDeadBytes = 0;
  }

  private open(size: number): number {
    const id = this.freeIds.pop() ?? this.buffers.length;
    // allocUnsafeSlow: an ArrayBuffer of exactly this size, not zero-filled (every byte is written before it is read).
    const buffer = Buffer.allocUnsafeSlow(size);
    this.buffers[id] = buffer;
    this.ledger?.allocated(buffer.buffer as ArrayBuffer);
    this.used[id] = 0;
    this.dead[id] = 0;
    this.records[id] = 0;
    this.heldBytes += size;
    return id;
  }

  private seal(segment: number): void {
    const tail = this.segmentBytes - this.used[segment]!;
    this.used[segment] = this.segmentBytes;
    this.dead[segment]! += tail;
    this.sealedDeadBytes += this.dead[segment]!;
    this.active = -1;
    if (this.records[segment] === 0) this.drop(segment);
  }

  private drop(segment: number): void {
    this.sealedDeadBytes -= this.dead[segment]!;
    this.free(segment);
  }

  private free(segment: number): void {
    const size = this.buffers[segment]!.byteLength;
    this.heldBytes -= size;
    this.ledger?.dropped(size);
    this.buffers[segment] = undefined;
    this.freeIds.push(segment);
  }
}
