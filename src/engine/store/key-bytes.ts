// key-bytes.ts turns a key string into its UTF-8 bytes and their hash in one reused buffer, so a lookup allocates nothing.

const utf8 = new TextEncoder();

/** FNV-1a's 32-bit parameters. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Finishes an FNV-1a hash with murmur3's avalanche: FNV alone leaves the low bits, which pick the
 * index slot, too alike for keys that differ only in their last characters ("k1", "k2", ...).
 */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of `length` bytes of `bytes` from `offset`: the same function `KeyBytes.encode` applies. */
export function hashBytes(bytes: Uint8Array, offset: number, length: number): number {
  let h = FNV_OFFSET;
  for (let i = offset; i < offset + length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return finish(h);
}

/**
 * The UTF-8 bytes of the last key encoded, in `bytes[0, length)`, and their `hash`. One instance
 * per store: the buffer grows to the longest key seen and is reused by every call. Lone surrogates
 * encode as U+FFFD, as Buffer.byteLength and the HTTP layer count them.
 */
export class KeyBytes {
  bytes = new Uint8Array(256);
  length = 0;
  hash = 0;

  encode(key: string): void {
    const n = key.length;
    if (n > this.bytes.length) this.grow(n);
    const bytes = this.bytes;
    // ASCII, the common case, is encoded and hashed in one pass without a native call.
    let h = FNV_OFFSET;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return this.encodeWide(key);
      bytes[i] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    this.length = n;
    this.hash = finish(h);
  }

  /** A key with a character beyond ASCII: up to 3 bytes per UTF-16 unit. */
  private encodeWide(key: string): void {
    if (key.length * 3 > this.bytes.length) this.grow(key.length * 3);
    this.length = utf8.encodeInto(key, this.bytes).written;
    this.hash = hashBytes(this.bytes, 0, this.length);
  }

  private grow(atLeast: number): void {
    let size = this.bytes.length;
    while (size < atLeast) size *= 2;
    this.bytes = new Uint8Array(size);
  }
}
