// entry-table.ts holds what the compact store knows of each entry in typed-array columns indexed by entry id, with exact LRU links.

/** `segment` of an id on the free list. */
export const FREE = 0xffffffff;
/** No entry: the end of a list. */
export const NONE = -1;

/** Columns grow by half: the average slack is about 23% of the entries, doubling's would be 44% (docs/compact-store.md). */
const GROWTH = 1.5;
const INITIAL_CAPACITY = 64;

/**
 * One row per entry, one typed array per field, so a million entries are a few arrays the garbage
 * collector never looks inside. Ids of removed entries go on a free list (threaded through `next`)
 * and are handed out again before the columns grow. The LRU list runs from `head` (most recently
 * used) to `tail` through `next`, and back through `prev`.
 */
export class EntryTable {
  /** Hash of the key's UTF-8 bytes (key-bytes.ts). */
  hash: Uint32Array;
  /** Segment holding the key then the value bytes (segments.ts); FREE for an id not in use. */
  segment: Uint32Array;
  /** Where in the segment the key starts; the value follows it. */
  offset: Uint32Array;
  keyLength: Uint32Array;
  valueLength: Uint32Array;
  /** When the value stops being served, in ms since the epoch; 0: never. */
  expiresAt: Float64Array;
  /** Toward the most recently used. */
  prev: Int32Array;
  /** Toward the least recently used; for a free id, the next free id. */
  next: Int32Array;

  head = NONE;
  tail = NONE;
  /** Entries in use. */
  count = 0;
  /** Ids below this have been handed out at least once. */
  highWater = 0;
  private freeHead = NONE;

  /** @param onOutgrown told the bytes of the columns each growth replaces: garbage from then on. */
  constructor(
    capacity = INITIAL_CAPACITY,
    private readonly onOutgrown?: (bytes: number) => void,
  ) {
    this.hash = new Uint32Array(capacity);
    this.segment = new Uint32Array(capacity);
    this.offset = new Uint32Array(capacity);
    this.keyLength = new Uint32Array(capacity);
    this.valueLength = new Uint32Array(capacity);
    this.expiresAt = new Float64Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.hash.length;
  }

  /** Bytes of all columns, used or not. */
  get byteSize(): number {
    return this.capacity * EntryTable.BYTES_PER_ROW;
  }

  static readonly BYTES_PER_ROW = 4 * 7 + 8;

  /** A new id, most recently used; the caller fills its columns. */
  add(): number {
    let id = this.freeHead;
    if (id !== NONE) {
      this.freeHead = this.next[id]!;
    } else {
      if (this.highWater === this.capacity) this.grow();
      id = this.highWater++;
    }
    this.count++;
    this.linkFront(id);
    return id;
  }

  /** Unlinks `id` and puts it on the free list. */
  remove(id: number): void {
    this.unlink(id);
    this.segment[id] = FREE;
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.highWater && this.segment[id] !== FREE;
  }

  moveToFront(id: number): void {
    if (this.head === id) return;
    this.unlink(id);
    this.linkFront(id);
  }

  clear(): void {
    this.head = this.tail = this.freeHead = NONE;
    this.count = this.highWater = 0;
  }

  private linkFront(id: number): void {
    this.prev[id] = NONE;
    this.next[id] = this.head;
    if (this.head !== NONE) this.prev[this.head] = id;
    else this.tail = id;
    this.head = id;
  }

  private unlink(id: number): void {
    const before = this.prev[id]!;
    const after = this.next[id]!;
    if (before !== NONE) this.next[before] = after;
    else this.head = after;
    if (after !== NONE) this.prev[after] = before;
    else this.tail = before;
  }

  private grow(): void {
    this.onOutgrown?.(this.capacity * EntryTable.BYTES_PER_ROW);
    const capacity = Math.ceil(this.capacity * GROWTH);
    this.hash = grown(this.hash, new Uint32Array(capacity));
    this.segment = grown(this.segment, new Uint32Array(capacity));
    this.offset = grown(this.offset, new Uint32Array(capacity));
    this.keyLength = grown(this.keyLength, new Uint32Array(capacity));
    this.valueLength = grown(this.valueLength, new Uint32Array(capacity));
    this.expiresAt = grown(this.expiresAt, new Float64Array(capacity));
    this.prev = grown(this.prev, new Int32Array(capacity));
    this.next = grown(this.next, new Int32Array(capacity));
  }
}

function grown<T extends Uint32Array | Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}
