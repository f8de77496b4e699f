// key.ts is what a key may be: the one check every way in (get, peek, handoff, invalidation) applies.

/**
 * Longest key, in UTF-8 bytes. A key travels percent-encoded in a URL (up to 3 characters a byte),
 * and Node refuses a request line and headers over 16 KiB: 2 KiB keeps every peer path and /api URL
 * well inside that, so a key is refused where it enters, never by its owner.
 */
export const MAX_KEY_BYTES = 2048;

/**
 * Control characters (C0, DEL, C1) are refused rather than encoded: no client means one, and a log
 * line, a header or an origin's path handling could misread one. One rule for /api, the peer
 * port (gets, batches, peeks, handoffs) and invalidations, since they all come here.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `key` cannot be asked for (empty, a control character, or longer than MAX_KEY_BYTES), or undefined when it can. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'key is required';
  if (CONTROL.test(key)) return 'key contains a control character';
  // A UTF-16 string takes at most 3 UTF-8 bytes per unit: only long keys need counting.
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes (UTF-8)`;
  return undefined;
}
