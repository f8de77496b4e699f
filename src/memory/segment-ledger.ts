// segment-ledger.ts counts a node's store segments from allocation until the garbage collector frees them.

export interface SegmentLedgerStats {
  /** Segments allocated so far: unchanged between two readings means nothing new was cached meanwhile. */
  segments: number;
  /** Segments the garbage collector has freed so far (reported by a FinalizationRegistry, so later than the fact). */
  segmentsFreed: number;
  /** Bytes of segments not yet freed: held by a store, or dropped and waiting for a GC. */
  heldBytes: number;
  /**
   * Bytes of segments a store let go of and the GC has not freed yet: garbage that only the next
   * full GC returns. An evicting cache piles these up between V8's full GCs, and a cache that stops
   * evicting keeps them until something else triggers one (idle-gc.ts).
   */
  droppedBytes: number;
  /**
   * Bytes of records written into segments so far. Each came in a response body or request that is
   * garbage once it is copied in: too large or too old to die young, it waits for a full GC too.
   */
  writtenBytes: number;
  /** Bytes of store columns and index slots replaced by bigger ones so far: garbage nobody reads, freed by a full GC. */
  outgrownBytes: number;
}

/**
 * What the stores of one node allocate, as segments (store/segments.ts): how much is held and how
 * much is only waiting for the collector. One ledger per node, shared by its groups' stores, so its
 * stats are the node's. Counting only: it never holds a segment.
 */
export class SegmentLedger {
  private segments = 0;
  private segmentsFreed = 0;
  private heldBytes = 0;
  private droppedBytes = 0;
  private writtenBytes = 0;
  private outgrownBytes = 0;
  // A segment is freed only after its store dropped it, so it was counted dropped first.
  private readonly freed = new FinalizationRegistry<number>((bytes) => {
    this.segmentsFreed++;
    this.heldBytes -= bytes;
    this.droppedBytes -= bytes;
  });

  /** A store allocated `buffer` as a segment. */
  allocated(buffer: ArrayBuffer): void {
    this.segments++;
    this.heldBytes += buffer.byteLength;
    this.freed.register(buffer, buffer.byteLength);
  }

  /** A store let go of a segment of `bytes`: garbage from now, freed at a later GC. */
  dropped(bytes: number): void {
    this.droppedBytes += bytes;
  }

  /** A store wrote a record of `bytes` into a segment. */
  written(bytes: number): void {
    this.writtenBytes += bytes;
  }

  /** A store replaced columns or index slots of `bytes` by bigger ones as it grew. */
  outgrown(bytes: number): void {
    this.outgrownBytes += bytes;
  }

  stats(): SegmentLedgerStats {
    return {
      segments: this.segments,
      segmentsFreed: this.segmentsFreed,
      heldBytes: this.heldBytes,
      droppedBytes: this.droppedBytes,
      writtenBytes: this.writtenBytes,
      outgrownBytes: this.outgrownBytes,
    };
  }
}
