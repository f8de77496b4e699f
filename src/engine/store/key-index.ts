// key-index.ts finds an entry id by its key's hash: open addressing with linear probing over one Int32Array.

const EMPTY = -1;
/** Grow (double) once more than this fraction of slots is taken: 1.9 slots per entry on average (docs/compact-store.md). */
const MAX_LOAD = 0.75;
const INITIAL_SLOTS = 128;

/**
 * Slots hold entry ids; an id's hash is read from `hashOf` (the entry table's column), so a slot
 * costs 4 bytes. A probe that meets the hash asks `matches(id)` to compare the key bytes. Removal
 * shifts the rest of the probe run back instead of leaving a tombstone, so the table never fills
 * with dead slots however many keys come and go.
 */
export class KeyIndex {
  private slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
  private mask = INITIAL_SLOTS - 1;
  count = 0;

  /**
   * @param hashes the hash of each entry id, read when probing and when moving ids (a getter: the column is replaced as it grows).
   * @param onOutgrown told the bytes of the slots each resize replaces: garbage from then on.
   */
  constructor(
    private readonly hashes: () => Uint32Array,
    private readonly onOutgrown?: (bytes: number) => void,
  ) {}

  get byteSize(): number {
    return this.slots.byteLength;
  }

  /** The id whose hash is `hash` and for which `matches` holds, or -1. */
  find(hash: number, matches: (id: number) => boolean): number {
    const slots = this.slots;
    const hashes = this.hashes();
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const id = slots[i]!;
      if (id === EMPTY) return EMPTY;
      if (hashes[id] === hash && matches(id)) return id;
    }
  }

  /** Adds `id`, whose key is not in the index yet. */
  insert(hash: number, id: number): void {
    if (this.count + 1 > this.slots.length * MAX_LOAD) this.resize(this.slots.length * 2);
    this.place(hash, id);
    this.count++;
  }

  /** Removes `id`, which is in the index under `hash`. */
  remove(hash: number, id: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = hash & mask;
    while (slots[hole] !== id) {
      if (slots[hole] === EMPTY) throw new Error(`entry ${id} is not in the index`);
      hole = (hole + 1) & mask;
    }
    // Backward shift: pull later ids of the run into the hole unless that would put one before its home slot.
    const hashes = this.hashes();
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const moving = slots[j]!;
      if (moving === EMPTY) break;
      const home = hashes[moving]! & mask;
      const homeAfterHole = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (homeAfterHole) continue;
      slots[hole] = moving;
      hole = j;
    }
    slots[hole] = EMPTY;
    this.count--;
  }

  clear(): void {
    this.slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY);
    this.mask = INITIAL_SLOTS - 1;
    this.count = 0;
  }

  private place(hash: number, id: number): void {
    let i = hash & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = id;
  }

  private resize(size: number): void {
    const old = this.slots;
    this.onOutgrown?.(old.byteLength);
    const hashes = this.hashes();
    this.slots = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (const id of old) if (id !== EMPTY) this.place(hashes[id]!, id);
  }
}
