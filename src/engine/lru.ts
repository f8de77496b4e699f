// lru.ts is a byte-bounded least-recently-used cache of ByteViews with groupcache's accounting.
import { LRUCache } from 'lru-cache';
import { ByteView } from './byteview.js';
import { isFresh } from './freshness.js';
import { SlabArena } from '../memory/slab.js';

export interface ByteLruStats {
  /** Entries held now. */
  items: number;
  /** Bytes held now: the sum of key length + value length, in bytes. */
  bytes: number;
  /** Entries removed to make room (not overwrites or explicit deletes). */
  evictions: number;
  /** Of those, values with an expiry that had not come yet: the budget cut them short of their TTL. */
  unexpiredEvictions: number;
}

/** The one place bytes are counted: UTF-8 key length plus value length, as groupcache does. */
export function entryBytes(key: string, value: ByteView): number {
  return Buffer.byteLength(key, 'utf8') + value.byteLength;
}

export interface ByteLruOptions {
  /** Where small values are packed (see slab.ts). Default: an arena of this cache's own. */
  arena?: SlabArena;
  /** Wall clock in ms since the epoch, to tell evicted values that had expired. Default Date.now. */
  clock?: () => number;
}

/**
 * A cache bounded by bytes, not entries, over lru-cache. `maxBytes` is a hard
 * ceiling; the Group may evict further (removeOldest) to share one budget
 * between its main and hot caches.
 *
 * Values are retained in the arena when they enter (small ones move into a slab)
 * and released when they leave, whatever the reason, through lru-cache's dispose.
 */
export class ByteLru {
  private readonly cache: LRUCache<string, ByteView>;
  private evictions = 0;
  private unexpiredEvictions = 0;
  private readonly clock: () => number;
  private readonly arena: SlabArena;

  constructor(
    readonly maxBytes: number,
    options: ByteLruOptions = {},
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new TypeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.arena = options.arena ?? new SlabArena();
    this.clock = options.clock ?? Date.now;
    this.cache = new LRUCache<string, ByteView>({
      maxSize: maxBytes,
      sizeCalculation: (value, key) => entryBytes(key, value),
      dispose: (value, _key, reason) => {
        ByteView.release(value);
        if (reason === 'evict') this.countEviction(value);
      },
    });
  }

  get(key: string): ByteView | undefined {
    const value = this.cache.get(key);
    if (value !== undefined) ByteView.touch(value, this.arena);
    return value;
  }

  /** The value of `key` without refreshing its recency: for looks that are not a client's get (peeks, handoff, stale-if-error). */
  peek(key: string): ByteView | undefined {
    return this.cache.peek(key);
  }

  /** Inserts or replaces `key`. An entry larger than maxBytes is not stored; returns whether it was. */
  set(key: string, value: ByteView): boolean {
    if (entryBytes(key, value) > this.maxBytes) return false;
    // lru-cache does not dispose a value set again under its own key, so retain only a new one.
    if (this.cache.peek(key) !== value) ByteView.retain(value, this.arena);
    this.cache.set(key, value);
    return true;
  }

  delete(key: string): boolean {
    return this.cache.delete(key);
  }

  /** Evicts the least recently used entry; returns false when empty. */
  removeOldest(): boolean {
    if (this.cache.size === 0) return false;
    const oldestKey = this.cache.rkeys().next().value;
    if (oldestKey === undefined) return false;
    const oldest = this.cache.peek(oldestKey);
    this.cache.delete(oldestKey);
    if (oldest) this.countEviction(oldest);
    return true;
  }

  private countEviction(value: ByteView): void {
    this.evictions++;
    // A value that never expires ends by eviction; one with an expiry should end by expiring.
    if (value.expiresAt !== 0 && isFresh(value.expiresAt, this.clock())) this.unexpiredEvictions++;
  }

  /** Entries from most to least recently used, without touching their recency. */
  entries(): IterableIterator<[string, ByteView]> {
    return this.cache.entries();
  }

  /** Keys from most to least recently used (for tests and debugging). */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  get bytes(): number {
    return this.cache.calculatedSize;
  }

  get items(): number {
    return this.cache.size;
  }

  stats(): ByteLruStats {
    return { items: this.items, bytes: this.bytes, evictions: this.evictions, unexpiredEvictions: this.unexpiredEvictions };
  }

  clear(): void {
    this.cache.clear();
  }
}
