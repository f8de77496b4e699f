// byteview.ts is an immutable view of a cached value: callers can read it but never change the cached bytes.

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
 * The bytes are a range of an ArrayBuffer: a value on its way in owns an exact-size copy
 * (`copyOf`) or the response bytes it was read into (`adopt`); a cache hit is a view into the
 * store's segment (`inBuffer`), made for that hit, whose bytes are never overwritten.
 */
export class ByteView {
  readonly #buffer: ArrayBuffer;
  readonly #offset: number;
  readonly #length: number;
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
   * of unrelated garbage alive (bench/ measured RSS at 2.4x the budget).
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
   * may be a view into a larger buffer; a cache that keeps the value copies the bytes, so
   * the buffer lives only as long as the response does.
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
   * The same bytes expiring at `expiresAt` instead, for a value not cached yet (a source's answer
   * that the group's TTL caps); a cache keeps the expiry it was given with the bytes.
   */
  static expiringAt(view: ByteView, expiresAt: number): ByteView {
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
   * the bytes), for a value of at most TEXT_WRITE_MAX_BYTES; otherwise undefined, and the caller
   * writes `bytesForWrite`. Made on each call: a hit's view is new each time, so there is nowhere
   * to keep the text, and making it costs less than the second socket write a Buffer body takes
   * (docs/performance.md, "Small values leave as text").
   */
  static textForWrite(view: ByteView): string | undefined {
    if (view.#length > TEXT_WRITE_MAX_BYTES) return undefined;
    return Buffer.from(view.#buffer, view.#offset, view.#length).toString('latin1');
  }
}
