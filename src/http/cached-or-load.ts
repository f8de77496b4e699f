// cached-or-load.ts is the one way every protocol (GET /api, a peer's GET, a batch) asks a group for a key.
import type { ByteView } from '../engine/byteview.js';
import type { GetOptions, Group } from '../engine/group.js';

/**
 * The cached value of `key`, returned as it is so a hit is answered synchronously (no promise, no
 * extra turn of the event loop), or the promise of its load. The key is validated and looked up once:
 * throws InvalidKeyError for a key no get can ask for.
 */
export function cachedOrLoad(group: Group, key: string, options?: GetOptions): ByteView | Promise<ByteView> {
  return group.getCached(key, options) ?? group.load(key, options);
}
