// compact-store.ts is a byte-bounded LRU cache with no JavaScript object per entry: ByteLru's API over typed arrays and segments.
import { ByteView } from '../byteview.js';
import { EntryTable, NONE } from './entry-table.js';
import { KeyBytes } from './key-bytes.js';
import { KeyIndex } from './key-index.js';
import { DEFAULT_SEGMENT_BYTES, Segments } from './segments.js';
import type { SegmentLedger } from '../../memory/segment-ledger.js';

/**
 * What one entry costs beyond its key and value bytes: the entry table's row and the index's slots,
 * with their growth slack, averaged over store sizes (docs/compact-store.md, "Overhead per entry").
 */
export const ENTRY_OVERHEAD_BYTES = 56;

/** Largest value the table's Uint32 columns can describe. */
const MAX_VALUE_BYTES = 0xffffffff;

export interface CompactStoreStats {
  /** Entries held now. */
  items: number;
  /** Bytes held now: the sum of key length (UTF-8) + value length + ENTRY_OVERHEAD_BYTES. */
  bytes: number;
  /** Entries removed to make room (not overwrites or explicit deletes). */
  evictions: number;
  /** Of those, values with an expiry that had not come yet: the budget cut them short of their TTL. */
  unexpiredEvictions: number;
  gets: number;
  hits: number;
}

export interface CompactStoreOptions {
  /** Wall clock in ms since the epoch, to tell evicted values that had expired. Default Date.now. */
  clock?: () => number;
  /** Size of each byte segment. Default 1 MiB. */
  segmentBytes?: number;
  /** Where the node counts segments until the GC frees them (memory/segment-ledger.ts). Default none. */
  ledger?: SegmentLedger;
}

/** What the store holds in memory, for measurements and tests. */
export interface CompactStoreFootprint {
  /** Typed-array bytes of the entry table and the key index. */
  tableBytes: number;
  /** Bytes of segments held (live, dead and not yet used). */
  segmentBytes: number;
  liveBytes: number;
  /** Dead bytes in sealed segments. */
  deadBytes: number;
  segments: number;
  /** Compactions so far. */
  compactions: number;
}

/**
 * The cache of ByteLru (lru.ts), stored so that the garbage collector has nothing per entry to
 * trace: key and value bytes in segments (segments.ts), everything else in typed-array columns
 * (entry-table.ts), found through an open-addressing index over the key's hash (key-index.ts).
 * `bytes` counts each entry's real overhead, so the budget bounds the memory held.
 *
 * A hit returns a new ByteView of the bytes where they lie: it stays valid after the entry is
 * evicted or moved, because segment bytes are never overwritten.
 */
export class CompactStore {
  private readonly table: EntryTable;
  private readonly index: KeyIndex;
  private readonly key = new KeyBytes();
  private readonly segments: Segments;
  private readonly clock: () => number;
  private heldBytes = 0;
  private evictions = 0;
  private unexpiredEvictions = 0;
  private gets = 0;
  private hits = 0;
  private compactions = 0;
  /** Compares the key in `key` with an entry's key bytes; one closure for the store's life. */
  private readonly isEncodedKey = (id: number): boolean => {
    const length = this.key.length;
    if (this.table.keyLength[id] !== length) return false;
    const stored = this.segments.bytesOf(this.table.segment[id]!);
    const at = this.table.offset[id]!;
    const wanted = this.key.bytes;
    for (let i = 0; i < length; i++) if (stored[at + i] !== wanted[i]) return false;
    return true;
  };

  constructor(
    readonly maxBytes: number,
    options: CompactStoreOptions = {},
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new TypeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.clock = options.clock ?? Date.now;
    this.segments = new Segments(options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, options.ledger);
    const ledger = options.ledger;
    const outgrown = ledger ? (bytes: number) => ledger.outgrown(bytes) : undefined;
    this.table = new EntryTable(undefined, outgrown);
    this.index = new KeyIndex(() => this.table.hash, outgrown);
  }

  get(key: string): ByteView | undefined {
    this.gets++;
    const id = this.find(key);
    if (id === NONE) return undefined;
    this.hits++;
    this.table.moveToFront(id);
    return this.viewOf(id);
  }

  /** The value of `key` without counting a get or refreshing its recency. */
  peek(key: string): ByteView | undefined {
    const id = this.find(key);
    return id === NONE ? undefined : this.viewOf(id);
  }

  /**
   * Stores a copy of `bytes` under `key`, most recently used, replacing any value it had, and evicts
   * the least recently used entries until the budget holds. An entry larger than maxBytes is not
   * stored (and an old value stays); returns whether it was.
   */
  set(key: string, bytes: Uint8Array, expiresAt = 0): boolean {
    this.key.encode(key);
    const keyLength = this.key.length;
    const valueLength = bytes.byteLength;
    const size = keyLength + valueLength + ENTRY_OVERHEAD_BYTES;
    if (size > this.maxBytes || valueLength > MAX_VALUE_BYTES) return false;
    const hash = this.key.hash;
    const old = this.index.find(hash, this.isEncodedKey);
    if (old !== NONE) this.removeEntry(old);
    // Evictions only read the table, so the encoded key survives them.
    while (this.heldBytes + size > this.maxBytes && this.evictOldest());

    const table = this.table;
    const id = table.add();
    const segment = this.segments.allocate(keyLength + valueLength);
    const offset = this.segments.lastOffset;
    const target = this.segments.bytesOf(segment);
    target.set(this.key.bytes.subarray(0, keyLength), offset);
    target.set(bytes, offset + keyLength);
    table.hash[id] = hash;
    table.segment[id] = segment;
    table.offset[id] = offset;
    table.keyLength[id] = keyLength;
    table.valueLength[id] = valueLength;
    table.expiresAt[id] = expiresAt;
    this.index.insert(hash, id);
    this.heldBytes += size;
    this.compactIfNeeded();
    return true;
  }

  delete(key: string): boolean {
    const id = this.find(key);
    if (id === NONE) return false;
    this.removeEntry(id);
    this.compactIfNeeded();
    return true;
  }

  /** Evicts the least recently used entry; returns false when empty. */
  removeOldest(): boolean {
    const evicted = this.evictOldest();
    if (evicted) this.compactIfNeeded();
    return evicted;
  }

  /**
   * Entries from most to least recently used, without touching their recency. The order is the one
   * when iteration starts; an entry removed before the iteration reaches it is skipped, so a caller
   * may await between entries (a handoff) while the store changes.
   */
  *entries(): Generator<[string, ByteView]> {
    const table = this.table;
    const ids = new Int32Array(table.count);
    const hashes = new Uint32Array(table.count);
    let n = 0;
    for (let id = table.head; id !== NONE; id = table.next[id]!) {
      ids[n] = id;
      hashes[n++] = table.hash[id]!;
    }
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      // An id freed and reused by another key shows a different hash (or, rarely, another live entry: still a true pair).
      if (!table.isLive(id) || table.hash[id] !== hashes[i]) continue;
      yield [this.keyOf(id), this.viewOf(id)];
    }
  }

  /** Keys from most to least recently used (for tests and debugging). */
  keys(): string[] {
    const keys: string[] = [];
    for (let id = this.table.head; id !== NONE; id = this.table.next[id]!) keys.push(this.keyOf(id));
    return keys;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get items(): number {
    return this.table.count;
  }

  stats(): CompactStoreStats {
    return {
      items: this.items,
      bytes: this.bytes,
      evictions: this.evictions,
      unexpiredEvictions: this.unexpiredEvictions,
      gets: this.gets,
      hits: this.hits,
    };
  }

  footprint(): CompactStoreFootprint {
    return {
      tableBytes: this.table.byteSize + this.index.byteSize,
      segmentBytes: this.segments.heldBytes,
      liveBytes: this.segments.liveBytes,
      deadBytes: this.segments.sealedDeadBytes,
      segments: this.segments.count,
      compactions: this.compactions,
    };
  }

  /** Empties the store; the table and index keep their capacity, the segments are let go. */
  clear(): void {
    this.table.clear();
    this.index.clear();
    this.segments.clear();
    this.heldBytes = 0;
  }

  private find(key: string): number {
    this.key.encode(key);
    return this.index.find(this.key.hash, this.isEncodedKey);
  }

  private viewOf(id: number): ByteView {
    const table = this.table;
    const bytes = this.segments.bytesOf(table.segment[id]!);
    return ByteView.inBuffer(bytes.buffer as ArrayBuffer, bytes.byteOffset + table.offset[id]! + table.keyLength[id]!, table.valueLength[id]!, table.expiresAt[id]!);
  }

  private keyOf(id: number): string {
    const bytes = this.segments.bytesOf(this.table.segment[id]!) as Buffer;
    const at = this.table.offset[id]!;
    return bytes.toString('utf8', at, at + this.table.keyLength[id]!);
  }

  private evictOldest(): boolean {
    const id = this.table.tail;
    if (id === NONE) return false;
    this.evictions++;
    // A value that never expires ends by eviction; one with an expiry should end by expiring.
    const expiresAt = this.table.expiresAt[id]!;
    if (expiresAt !== 0 && expiresAt > this.clock()) this.unexpiredEvictions++;
    this.removeEntry(id);
    return true;
  }

  private removeEntry(id: number): void {
    const table = this.table;
    const length = table.keyLength[id]! + table.valueLength[id]!;
    this.index.remove(table.hash[id]!, id);
    this.segments.release(table.segment[id]!, length);
    table.remove(id);
    this.heldBytes -= length + ENTRY_OVERHEAD_BYTES;
  }

  /** Copies the live records of the sparsest segments into the active one; emptied segments are dropped. */
  private compactIfNeeded(): void {
    if (!this.segments.needsCompaction()) return;
    this.compactions++;
    const chosen = this.segments.sparsest();
    const table = this.table;
    for (let id = 0; id < table.highWater; id++) {
      const from = table.segment[id]!;
      if (chosen[from] !== 1 || !table.isLive(id)) continue;
      const at = table.offset[id]!;
      const length = table.keyLength[id]! + table.valueLength[id]!;
      const source = this.segments.bytesOf(from);
      const to = this.segments.allocate(length);
      this.segments.bytesOf(to).set(source.subarray(at, at + length), this.segments.lastOffset);
      table.segment[id] = to;
      table.offset[id] = this.segments.lastOffset;
      // Last, so that the source segment is dropped only once its bytes are copied.
      this.segments.release(from, length);
    }
  }
}
