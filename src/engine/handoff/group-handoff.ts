// group-handoff.ts is one group's side of handoff: peeks it sends and answers, values handed to it, values it hands on.
import { ByteView } from '../byteview.js';
import { zeroed, type Counters } from '../counters.js';
import { isFresh, type Freshness } from '../freshness.js';
import { keyProblem } from '../key.js';
import type { HandedValue, PeerPicker, PeerValue } from '../peers.js';

/** A group's counters of handoff, by name. */
export const HANDOFF_COUNTERS = [
  /** Misses this process owns that asked the key's previous holder for its cached copy, by outcome. */
  'peekHits',
  'peekMisses',
  'peekErrors',
  /** Peeks other peers sent here, answered or not. */
  'peeksServed',
  /** Values other peers handed here: stored, or refused (not owned here, expired, or already cached); the stored bytes. */
  'handoffStored',
  'handoffRefused',
  'handoffStoredBytes',
] as const;

export type HandoffCounter = (typeof HANDOFF_COUNTERS)[number];

/** What handoff reads of one of the group's caches. */
export interface CacheReader {
  /** Without refreshing the entry's recency. */
  peek(key: string): ByteView | undefined;
  /** From most to least recently used. */
  entries(): Iterable<[string, ByteView]>;
}

/** What handoff needs of its group. */
export interface HandoffGroup {
  readonly name: string;
  readonly peers: PeerPicker;
  readonly freshness: Freshness;
  readonly mainCache: CacheReader;
  readonly hotCache: CacheReader;
  /** False for a group with a budget of 0: it caches nothing. */
  readonly caches: boolean;
  /** Whether the group still takes values: not once it stopped loading (shutting down). */
  accepting(): boolean;
  /** Keeps a value in the main cache as if it had been loaded here. */
  keep(key: string, value: ByteView): void;
}

export class GroupHandoff {
  private readonly group: HandoffGroup;
  private readonly counters = zeroed(HANDOFF_COUNTERS);

  constructor(group: HandoffGroup) {
    this.group = group;
  }

  /**
   * Just after a membership change, for a miss on a key this process owns, asks the key's previous
   * holder for its cached copy: the copy (with the holder's expiry, capped by this group's TTL) or
   * undefined when it has none or cannot say in time. Undefined at once when there is nobody to ask.
   * The caller keeps the copy as if loaded.
   */
  askPreviousHolder(key: string): Promise<ByteView | undefined> | undefined {
    const holder = this.group.peers.handoffSource?.(key);
    if (!holder?.peek) return undefined;
    return this.counted(holder.peek(this.group.name, key));
  }

  private async counted(peek: Promise<PeerValue | undefined>): Promise<ByteView | undefined> {
    let answer: PeerValue | undefined;
    try {
      answer = await peek;
    } catch {
      this.counters.peekErrors++;
      return undefined;
    }
    const value = answer && ByteView.adopt(answer.value, this.group.freshness.expiryOf(answer.expiresAt));
    if (!value || !this.group.freshness.isFresh(value.expiresAt)) {
      this.counters.peekMisses++;
      return undefined;
    }
    this.counters.peekHits++;
    return value;
  }

  /** Answers another peer's peek: the fresh cached copy of `key` (main or hot), or undefined. Never loads, and is not a get. */
  answerPeek(key: string): ByteView | undefined {
    this.counters.peeksServed++;
    if (!this.group.caches || keyProblem(key) !== undefined) return undefined;
    const now = this.group.freshness.clock();
    const fresh = (value: ByteView | undefined) => (value && isFresh(value.expiresAt, now) ? value : undefined);
    return fresh(this.group.mainCache.peek(key)) ?? fresh(this.group.hotCache.peek(key));
  }

  /**
   * Keeps a value another peer handed over as if it had been loaded here, unless `owns` says this
   * process does not own the key, it already holds a fresh copy, or the value expired.
   */
  store(handed: HandedValue, owns: (key: string) => boolean): boolean {
    const { key } = handed;
    const { freshness } = this.group;
    const current = this.group.mainCache.peek(key);
    const held = current !== undefined && freshness.isFresh(current.expiresAt);
    if (!this.group.caches || !this.group.accepting() || keyProblem(key) !== undefined || held || !owns(key)) {
      this.counters.handoffRefused++;
      return false;
    }
    const expiresAt = freshness.expiryOf(handed.expiresAt);
    if (!freshness.isFresh(expiresAt)) {
      this.counters.handoffRefused++;
      return false;
    }
    // The bytes are a view into the request body: copied, so the cache does not pin the whole body.
    this.group.keep(key, ByteView.copyOf(handed.value, expiresAt));
    this.counters.handoffStored++;
    this.counters.handoffStoredBytes += handed.value.byteLength;
    return true;
  }

  /** The main cache's fresh entries, most recently used first: what this process hands on when it leaves. */
  *entries(): Generator<[string, ByteView]> {
    const now = this.group.freshness.clock();
    for (const [key, value] of this.group.mainCache.entries()) {
      if (isFresh(value.expiresAt, now)) yield [key, value];
    }
  }

  stats(): Readonly<Counters<HandoffCounter>> {
    return this.counters;
  }
}
