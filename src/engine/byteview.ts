// byteview.ts is an immutable view of a cached value: callers can read it but never change the cached bytes.
import type { Slab, SlabArena } from '../memory/slab.js';

/**
 * Largest cached value that `textForWrite` gives as text: node:http sends a string body in the same
 * write as the response header, a Buffer body in a second one. Text wins for small values and loses
 * from about 1 KiB (docs/performance.md, "Small values leave as text").
 */
export const TEXT_WRITE_MAX_BYTES = 512;

/**
 * Cached values are shared by every caller, so nobody may mutate them. A
 * ByteView keeps its bytes private: readers get copies (`toBytes`) or strings;
 * only the transport writes the original bytes to a socket, through
 * `bytesForWrite`, which never hands them to user code.
 *
 * The bytes are a range of an ArrayBuffer, not a Uint8Array object: a cached entry
 * then costs one small object, not a view object plus an ArrayBuffer. While no cache
 * holds the view, the ArrayBuffer is its own exact-size copy. The first cache to take
 * it (ByteLru.set calls `retain`) moves a small value into a shared slab (slab.ts);
 * the content never changes, only where it lives.
 */
export class ByteView {
  #buffer: ArrayBuffer;
  #offset: number;
  readonly #length: number;
  /** The slab holding the bytes, or undefined while they are in an ArrayBuffer of their own. */
  #slab: Slab | undefined = undefined;
  /** How many cache entries hold this view; its bytes count as live in the slab while > 0. */
  #refs = 0;
  /** The bytes as latin1 text, made by the first textForWrite while cached; dropped when no cache holds the view. */
  #text: string | undefined = undefined;
  /** When the value stops being served, in ms since the epoch; 0: never (groupcache's behaviour). */
  readonly expiresAt: number;

  private constructor(buffer: ArrayBuffer, offset: number, length: number, expiresAt: number) {
    this.#buffer = buffer;
    this.#offset = offset;
    this.#length = length;
    this.expiresAt = expiresAt;
  }

  /**
   * Wraps a copy of `bytes`: later changes to the argument do not reach the view.
   * The copy owns an ArrayBuffer of exactly its size. Buffer.from would place small
   * values in Node's shared 8 KiB pool slabs, and a view would then keep a whole slab
   * of unrelated garbage alive (bench/ measured RSS at 2.4x the budget). Values that
   * get cached move into a slab of cached values only (see `retain`).
   */
  static copyOf(bytes: Uint8Array | string, expiresAt = 0): ByteView {
    if (typeof bytes === 'string') bytes = Buffer.from(bytes, 'utf8');
    const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
    copy.set(bytes);
    return new ByteView(copy.buffer, 0, bytes.byteLength, expiresAt);
  }

  /**
   * Wraps `bytes` without copying. Only for bytes nobody else holds or will change (a
   * response body just read): it spares a miss one copy and one garbage buffer. The bytes
   * may be a view into a larger buffer; a cache that takes the view moves small values
   * into a slab, which lets go of that buffer.
   */
  static adopt(bytes: Uint8Array, expiresAt = 0): ByteView {
    return new ByteView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, expiresAt);
  }

  /**
   * Wraps `length` bytes of `buffer` at `offset` without copying, for a store whose buffers are
   * written once and never changed (store/segments.ts): the view stays valid after the entry leaves.
   */
  static inBuffer(buffer: ArrayBuffer, offset: number, length: number, expiresAt = 0): ByteView {
    return new ByteView(buffer, offset, length, expiresAt);
  }

  /**
   * The same bytes expiring at `expiresAt` instead, for a view no cache holds yet (a source's answer
   * that the group's TTL caps); a view in a cache keeps the expiry it was cached with.
   */
  static expiringAt(view: ByteView, expiresAt: number): ByteView {
    if (view.#refs > 0) throw new TypeError('a cached value keeps its expiry');
    return new ByteView(view.#buffer, view.#offset, view.#length, expiresAt);
  }

  get byteLength(): number {
    return this.#length;
  }

  /** A fresh copy of the bytes; changing it does not change the view. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.#buffer, this.#offset, this.#length).slice();
  }

  toString(encoding: BufferEncoding = 'utf8'): string {
    return Buffer.from(this.#buffer, this.#offset, this.#length).toString(encoding);
  }

  equals(other: ByteView | Uint8Array | string): boolean {
    const theirs =
      other instanceof ByteView
        ? new Uint8Array(other.#buffer, other.#offset, other.#length)
        : typeof other === 'string'
          ? Buffer.from(other)
          : other;
    return Buffer.compare(new Uint8Array(this.#buffer, this.#offset, this.#length), theirs) === 0;
  }

  /**
   * The original bytes, for writing to a socket or encoding on the wire. Never mutate them.
   * A Buffer, not a plain Uint8Array: a socket write turns any other Uint8Array into a Buffer
   * first, one more object per answer on the hot path.
   */
  static bytesForWrite(view: ByteView): Buffer {
    return Buffer.from(view.#buffer, view.#offset, view.#length);
  }

  /**
   * The bytes as a latin1 string (one character per byte, so writing it as latin1 sends exactly
   * the bytes), for a value a cache holds and of at most TEXT_WRITE_MAX_BYTES; otherwise undefined,
   * and the caller writes `bytesForWrite`. Made once, on the first call, and kept while a cache
   * holds the view: up to 512 bytes of V8 heap beside the slab bytes, for values that are read.
   * A value that is not cached (a miss served as it passes through) is not worth converting.
   */
  static textForWrite(view: ByteView): string | undefined {
    if (view.#refs === 0 || view.#length > TEXT_WRITE_MAX_BYTES) return undefined;
    return (view.#text ??= ByteView.bytesForWrite(view).toString('latin1'));
  }

  /**
   * @internal For ByteLru: a cache entry now holds `view`. The first holder moves a
   * small value from its own ArrayBuffer into `arena`; a view already in a slab counts
   * as live there again. Readers that already have its old bytes keep them: they are
   * never changed, only no longer referenced by the view.
   */
  static retain(view: ByteView, arena: SlabArena): void {
    if (view.#refs++ > 0) return;
    const slab = view.#slab;
    if (slab !== undefined) {
      slab.addLive(view.#length);
      if (slab.sparse) view.#moveTo(arena);
    } else if (arena.fits(view.#length)) {
      view.#moveTo(arena);
    }
  }

  /** @internal For ByteLru: a cache entry let go of `view`. */
  static release(view: ByteView): void {
    if (view.#refs === 0) return;
    if (--view.#refs === 0) {
      view.#slab?.removeLive(view.#length);
      view.#text = undefined;
    }
  }

  /**
   * @internal For ByteLru.get: a hit on a value whose slab is mostly dead copies it into
   * the current slab, so a few hot values do not keep a sparse slab alive. Cheap when
   * there is nothing to do: one field read and one boolean.
   */
  static touch(view: ByteView, arena: SlabArena): void {
    const slab = view.#slab;
    if (slab !== undefined && slab.sparse && view.#refs > 0) {
      view.#moveTo(arena);
      arena.relocations++;
    }
  }

  /** @internal For tests: the slab holding the bytes and where, or undefined if they are in their own ArrayBuffer. */
  static placement(view: ByteView): { slab: Slab; offset: number } | undefined {
    return view.#slab === undefined ? undefined : { slab: view.#slab, offset: view.#offset };
  }

  /** Copies the bytes into the arena's current slab; the live count moves with them. */
  #moveTo(arena: SlabArena): void {
    const length = this.#length;
    const slab = arena.copyIn(new Uint8Array(this.#buffer, this.#offset, length));
    this.#slab?.removeLive(length);
    this.#buffer = slab.buffer;
    this.#offset = slab.used - length;
    this.#slab = slab;
  }
}
