// values.ts makes the bytes every bench server returns for a key, so geecache and the baseline serve identical bodies.

/** 100-byte values, as in the anchors of docs/performance.md. */
export const VALUE_BYTES = 100;

/**
 * A deterministic value of exactly `size` bytes for `key`: the key repeated
 * after a fixed prefix, cut to size. Printable ASCII, so bodies are easy to
 * inspect and compare.
 */
export function valueFor(key: string, size: number = VALUE_BYTES): Buffer {
  const out = Buffer.alloc(size, 0x2e); // '.'
  const text = `value-of:${key}|`;
  for (let i = 0; i < size; i += text.length) out.write(text, i, Math.min(text.length, size - i), 'latin1');
  return out;
}
