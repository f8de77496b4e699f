// slab.ts packs small cached values into shared fixed-size ArrayBuffers, so a cached value costs no ArrayBuffer of its own.

/**
 * One fixed-size ArrayBuffer, filled front to back and never rewritten: a byte range
 * once handed out belongs to that value for as long as the slab lives, so a view
 * that outlives its cache entry (a response still being written) never sees another
 * value's bytes. The slab is freed by the garbage collector when no view points into it.
 */
export class Slab {
  readonly buffer: ArrayBuffer;
  /** Bytes handed out so far (the next value goes at this offset). */
  used = 0;
  /** Bytes of values that a cache still holds. The rest of `used` is dead. */
  live = 0;
  /** Sealed (the arena moved on to a new slab) and less than `sparseFraction` live: hits move their value out. */
  sparse = false;
  sealed = false;
  /** Sealed with nothing live: only the garbage collector can free it now (counted in the arena's emptySlabBytes). */
  empty = false;

  constructor(
    readonly arena: SlabArena,
    size: number,
  ) {
    // allocUnsafeSlow: an ArrayBuffer of exactly this size, not zero-filled (every byte is written before it is read).
    this.buffer = Buffer.allocUnsafeSlow(size).buffer;
  }

  /** A cache took a value in this slab. */
  addLive(bytes: number): void {
    if (this.empty) this.arena.markEmpty(this, false);
    this.live += bytes;
    this.arena.liveBytes += bytes;
    if (this.sparse && this.live >= this.used * this.arena.sparseFraction) this.sparse = false;
  }

  /** The last cache holding a value in this slab let it go. */
  removeLive(bytes: number): void {
    this.live -= bytes;
    this.arena.liveBytes -= bytes;
    if (this.sealed && this.live < this.used * this.arena.sparseFraction) this.sparse = true;
    if (this.sealed && this.live === 0) this.arena.markEmpty(this, true);
  }
}

export interface SlabArenaOptions {
  /** Size of each slab. Default 256 KiB: 256 values of 1 KiB, and few enough slabs that their bookkeeping is noise. */
  slabBytes?: number;
  /** Values larger than this keep an ArrayBuffer of their own. Default slabBytes / 16 (16 KiB), which caps the tail a slab wastes when the next value does not fit at 1/16. */
  maxValueBytes?: number;
  /** A sealed slab with less than this fraction of its bytes live is sparse: a hit copies its value into the current slab. Default 0.5. */
  sparseFraction?: number;
}

export interface SlabArenaStats {
  /** Slabs created so far. */
  slabs: number;
  /** Slabs the garbage collector has freed so far (reported by a FinalizationRegistry, so later than the fact). */
  slabsFreed: number;
  /** Bytes of slabs not yet freed: live values, dead values still pinned, and the unused end of the current slab. */
  slabBytesHeld: number;
  /** Bytes of values some cache holds. slabBytesHeld / liveBytes is the fragmentation overhead. */
  liveBytes: number;
  /**
   * Bytes of sealed slabs that no cache value is in any more, not yet freed: garbage that only
   * the next full GC returns. An evicting cache piles these up between V8's full GCs, and
   * a cache that stops evicting keeps them until something else triggers one (idle-gc.ts).
   */
  emptySlabBytes: number;
  /** Values copied out of sparse slabs on a hit. */
  relocations: number;
}

/**
 * Hands out byte ranges for cached values from a current slab, bump-pointer style;
 * when the next value does not fit, the slab is sealed and a new one started.
 *
 * Memory is reclaimed a whole slab at a time, when the last view into it is collected.
 * LRU eviction removes values in roughly insertion order, so most slabs die whole. A
 * slab whose survivors are a few hot values would stay pinned, so it is marked sparse
 * once under `sparseFraction` live, and each hit on one of its values copies the value
 * into the current slab (ByteView.touch); values that are not hit drift to the cold end
 * of the LRU and are evicted. Either way a sparse slab empties within one turnover of
 * the cache, so the steady-state overhead is bounded by the dense slabs (at most
 * 1/sparseFraction of their live bytes) plus what one turnover leaves behind.
 */
export class SlabArena {
  readonly slabBytes: number;
  readonly maxValueBytes: number;
  readonly sparseFraction: number;
  liveBytes = 0;
  relocations = 0;
  private current: Slab | undefined;
  private slabs = 0;
  private slabsFreed = 0;
  private emptySlabBytes = 0;
  // A slab can only be collected once no cache value is in it and it is sealed, so it was counted empty first.
  private readonly freed = new FinalizationRegistry<undefined>(() => {
    this.slabsFreed++;
    this.emptySlabBytes -= this.slabBytes;
  });

  constructor(options: SlabArenaOptions = {}) {
    const slabBytes = options.slabBytes ?? 256 * 1024;
    if (!Number.isSafeInteger(slabBytes) || slabBytes < 1) {
      throw new TypeError(`slabBytes must be a positive integer, got ${slabBytes}`);
    }
    const maxValueBytes = options.maxValueBytes ?? Math.floor(slabBytes / 16);
    if (!Number.isSafeInteger(maxValueBytes) || maxValueBytes < 0 || maxValueBytes > slabBytes) {
      throw new TypeError(`maxValueBytes must be an integer from 0 to slabBytes (${slabBytes}), got ${maxValueBytes}`);
    }
    const sparseFraction = options.sparseFraction ?? 0.5;
    if (!(sparseFraction >= 0 && sparseFraction <= 1)) {
      throw new TypeError(`sparseFraction must be between 0 and 1, got ${sparseFraction}`);
    }
    this.slabBytes = slabBytes;
    this.maxValueBytes = maxValueBytes;
    this.sparseFraction = sparseFraction;
  }

  /** Whether a value of this size goes in a slab (else it keeps its own ArrayBuffer). */
  fits(bytes: number): boolean {
    return bytes > 0 && bytes <= this.maxValueBytes;
  }

  /**
   * Copies `bytes` (at most maxValueBytes) into the current slab and counts them live.
   * Returns the slab; the value starts at `slab.used - bytes.byteLength`.
   */
  copyIn(bytes: Uint8Array): Slab {
    const n = bytes.byteLength;
    let slab = this.current;
    if (slab === undefined || slab.used + n > this.slabBytes) slab = this.startSlab();
    new Uint8Array(slab.buffer, slab.used, n).set(bytes);
    slab.used += n;
    slab.addLive(n);
    return slab;
  }

  stats(): SlabArenaStats {
    return {
      slabs: this.slabs,
      slabsFreed: this.slabsFreed,
      slabBytesHeld: (this.slabs - this.slabsFreed) * this.slabBytes,
      liveBytes: this.liveBytes,
      emptySlabBytes: this.emptySlabBytes,
      relocations: this.relocations,
    };
  }

  /** @internal For Slab: it became empty (sealed, nothing live), or took a value again. */
  markEmpty(slab: Slab, empty: boolean): void {
    slab.empty = empty;
    this.emptySlabBytes += empty ? this.slabBytes : -this.slabBytes;
  }

  private startSlab(): Slab {
    const old = this.current;
    if (old !== undefined) {
      old.sealed = true;
      if (old.live < old.used * this.sparseFraction) old.sparse = true;
      if (old.live === 0) this.markEmpty(old, true);
    }
    const slab = new Slab(this, this.slabBytes);
    this.slabs++;
    this.freed.register(slab.buffer, undefined);
    this.current = slab;
    return slab;
  }
}
