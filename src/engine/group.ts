// group.ts is a cache namespace: main and hot caches, the load path through the owner peer, and its stats.
import { ByteView } from './byteview.js';
import { GeecacheError, InvalidKeyError, NotFoundError, PeerUnavailableError, SourceError } from '../errors.js';
import { ByteLru } from './lru.js';
import { SlabArena } from '../memory/slab.js';
import { noPeers, type HandedValue, type PeerGetter, type PeerPicker, type PeerValue } from './peers.js';
import { RequestRate } from './request-rate.js';
import { SingleFlight, type Flight } from './singleflight.js';

/**
 * Loads a key from the slow source. Rejects with NotFoundError when the key
 * does not exist; any other rejection is a source failure. Bytes and strings are
 * copied; a source that hands over bytes it keeps no reference to may return
 * ByteView.adopt(bytes) to spare the copy.
 */
export type Getter = (key: string, signal?: AbortSignal) => Promise<Uint8Array | string | ByteView>;

/** groupcache's per-group counters; all only ever grow. */
export interface GroupStats {
  /** Every get, including those that hit a cache. */
  gets: number;
  mainHits: number;
  hotHits: number;
  /** Gets that missed both caches and went down the load path. */
  loads: number;
  /** Loads left after singleflight: concurrent gets of one key that missed count once (groupcache's LoadsDeduped). */
  loadsDeduped: number;
  /** Values fetched from the owner peer. */
  peerLoads: number;
  /** Failed peer fetches that fell back to a local load. */
  peerErrors: number;
  /** Values the getter loaded (groupcache's LocalLoads). */
  localLoads: number;
  /** Getter calls that failed, not-found included (groupcache's LocalLoadErrs). */
  localLoadErrors: number;
  /** Of those, the ones that were not a not-found: the source failed. */
  sourceFailures: number;
  /** Gets that arrived from another peer over the peer protocol. */
  serverRequests: number;
  /** Cached values found expired (and dropped) when a get looked for them. */
  expirations: number;
  /** Keys invalidated with remove(), cached here or not. */
  removals: number;
  /** Times the whole group was emptied with reset(). */
  resets: number;
  /** Expired values served while a refresh ran (stale-while-revalidate). */
  staleWhileRevalidate: number;
  /** Expired values served because the load failed (stale-if-error). */
  staleIfError: number;
  /** Misses this process owns that asked the key's previous holder for its cached copy (handoff), by outcome. */
  peekHits: number;
  peekMisses: number;
  peekErrors: number;
  /** Peeks other peers sent here, and the ones answered with a value. */
  peeksServed: number;
  peeksAnswered: number;
  /** Values other peers handed here: stored, or refused (not owned here, expired, or already cached). */
  handoffStored: number;
  handoffRefused: number;
  handoffStoredBytes: number;
}

/** What the group reports as it works, for logs and metrics; all optional. */
export interface GroupObserver {
  /** A finished fetch from the owner (`peer`) or the getter (`local`), with its duration. */
  loaded?(group: string, where: 'peer' | 'local', seconds: number, error?: unknown): void;
  /** The owner could not be reached; the key is being loaded locally instead. */
  peerFallback?(group: string, key: string, peer: string, error: PeerUnavailableError): void;
}

export interface GroupOptions {
  name: string;
  /** Byte budget shared by the main and hot caches (key + value bytes). 0 disables caching. */
  cacheBytes: number;
  getter: Getter;
  /** Finds owners. Default: noPeers (this process owns every key). */
  peers?: PeerPicker;
  /** Keep values fetched from owners that are asked for often in the hot cache. Default true. */
  hotCache?: boolean;
  /**
   * A value fetched from its owner goes into the hot cache when the owner says peers ask it for the
   * key at least this often (requests per second over about a minute, GetResponse.minute_qps); a
   * cooler one with the chance its rate is of this (at a tenth of it, groupcache's 1 in 10). 0, or
   * an owner that does not say (a Go groupcache peer): groupcache's rule, 1 fetch in 10 at random.
   * Default 0.
   */
  hotCacheQps?: number;
  /** Uniform [0, 1) random numbers for hot-cache sampling. Default Math.random. */
  random?: () => number;
  /** Monotonic clock in milliseconds, for load durations. Default performance.now. */
  now?: () => number;
  observer?: GroupObserver;
  /** Where the caches keep small values (slab.ts). Default: an arena of this group's own; a GroupRegistry passes its node's. */
  arena?: SlabArena;
  /**
   * How long a loaded value is served, in ms; 0 (the default): until it is evicted, as groupcache.
   * A value the source says expires sooner expires then; a value fetched from its owner keeps the
   * owner's expiry.
   */
  ttlMs?: number;
  /** Wall clock in ms since the epoch, for expiry (pods compare expiries). Default Date.now. */
  clock?: () => number;
  /**
   * For this long past its expiry, a value this process loads itself (it owns the key, or a peer
   * asked) is still served at once while one refresh loads it again. Default 0: never.
   */
  staleWhileRevalidateMs?: number;
  /** For this long past its expiry, such a value is served instead of a failed load's error. Default 0: never. */
  staleIfErrorMs?: number;
}

export interface GetOptions {
  /** The request came over the peer protocol: answer from cache or a local load, never forward. */
  fromPeer?: boolean;
  signal?: AbortSignal;
}

/** The options of every get that arrived over the peer protocol. */
export const FROM_PEER: GetOptions = Object.freeze({ fromPeer: true });

/**
 * Longest key, in UTF-8 bytes. A key travels percent-encoded in a URL (up to 3 characters a byte),
 * and Node refuses a request line and headers over 16 KiB: 2 KiB keeps every peer path and /api URL
 * well inside that, so a key is refused where it enters, never by its owner.
 */
export const MAX_KEY_BYTES = 2048;

/** Why `key` cannot be asked for (empty, or longer than MAX_KEY_BYTES), or undefined when it can. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'key is required';
  // A UTF-16 string takes at most 3 UTF-8 bytes per unit: only long keys need counting.
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes (UTF-8)`;
  return undefined;
}

/** What a miss gets once the node stops loading (stopLoads). */
const shuttingDown = (): SourceError => new SourceError('shutting down: no new loads', { status: 503 });

/** 1 in HOT_SAMPLE peer fetches is kept in the hot cache (groupcache's rule). */
const HOT_SAMPLE = 10;
/** The hot cache may hold at most 1/HOT_SHARE of the main cache's bytes before it is evicted first. */
const HOT_SHARE = 8;

export class Group {
  readonly name: string;
  readonly cacheBytes: number;
  /** Values this process owns (or loaded because the owner was unreachable). */
  readonly mainCache: ByteLru;
  /** A sample of values owned by other peers, to spare the owner of a hot key. */
  readonly hotCache: ByteLru;
  private readonly getter: Getter;
  private readonly peers: PeerPicker;
  private readonly hotCacheEnabled: boolean;
  private readonly hotCacheQps: number;
  /** How often peers ask for each value this process serves them; dies with the value. */
  private readonly peerRates = new WeakMap<ByteView, RequestRate>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly clock: () => number;
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  /** How long past its expiry a main-cache value may still be of use: the longer stale window. */
  private readonly staleMs: number;
  private readonly observer: GroupObserver;
  private readonly loadFlight = new SingleFlight<ByteView>();
  private readonly fetchFlight = new SingleFlight<ByteView>();
  /** Set by stopLoads(): a shutdown past its drain deadline starts no load for clients that are gone. */
  private stopped = false;
  private readonly counters: GroupStats = {
    gets: 0,
    mainHits: 0,
    hotHits: 0,
    loads: 0,
    loadsDeduped: 0,
    peerLoads: 0,
    peerErrors: 0,
    localLoads: 0,
    localLoadErrors: 0,
    sourceFailures: 0,
    serverRequests: 0,
    expirations: 0,
    removals: 0,
    resets: 0,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    peekHits: 0,
    peekMisses: 0,
    peekErrors: 0,
    peeksServed: 0,
    peeksAnswered: 0,
    handoffStored: 0,
    handoffRefused: 0,
    handoffStoredBytes: 0,
  };

  constructor(options: GroupOptions) {
    if (typeof options.name !== 'string' || options.name === '') throw new TypeError('name must be a non-empty string');
    if (!Number.isSafeInteger(options.cacheBytes) || options.cacheBytes < 0) {
      throw new TypeError(`cacheBytes must be a non-negative integer, got ${options.cacheBytes}`);
    }
    if (typeof options.getter !== 'function') throw new TypeError('getter must be a function');
    this.name = options.name;
    this.cacheBytes = options.cacheBytes;
    this.getter = options.getter;
    this.peers = options.peers ?? noPeers;
    this.hotCacheEnabled = options.hotCache ?? true;
    this.hotCacheQps = options.hotCacheQps ?? 0;
    if (!(this.hotCacheQps >= 0)) throw new TypeError(`hotCacheQps must be a non-negative number, got ${options.hotCacheQps}`);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.clock = options.clock ?? Date.now;
    this.ttlMs = options.ttlMs ?? 0;
    this.staleWhileRevalidateMs = options.staleWhileRevalidateMs ?? 0;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 0;
    for (const [name, value] of [['ttlMs', this.ttlMs], ['staleWhileRevalidateMs', this.staleWhileRevalidateMs], ['staleIfErrorMs', this.staleIfErrorMs]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${value}`);
    }
    this.staleMs = Math.max(this.staleWhileRevalidateMs, this.staleIfErrorMs);
    this.observer = options.observer ?? {};
    const ceiling = Math.max(1, options.cacheBytes);
    const arena = options.arena ?? new SlabArena();
    this.mainCache = new ByteLru(ceiling, { arena, clock: this.clock });
    this.hotCache = new ByteLru(ceiling, { arena, clock: this.clock });
  }

  /** Returns the value of `key`: from a cache, from its owner peer, or loaded here. */
  async get(key: string, options: GetOptions = {}): Promise<ByteView> {
    return this.getCached(key, options) ?? this.load(key, options);
  }

  /**
   * The synchronous first half of get(): the cached value, counted as a get and a hit,
   * or undefined, counted as nothing (call get() next, which counts the get). Lets the
   * HTTP handlers answer a hit without a promise. Throws InvalidKeyError for an empty key or
   * one longer than MAX_KEY_BYTES.
   */
  getCached(key: string, options: GetOptions = {}): ByteView | undefined {
    const problem = keyProblem(key);
    if (problem !== undefined) {
      this.countGet(options);
      throw new InvalidKeyError(problem);
    }
    const cached = this.lookupCache(key, options);
    if (cached) this.countGet(options);
    return cached;
  }

  private countGet(options: GetOptions): void {
    this.counters.gets++;
    if (options.fromPeer) this.counters.serverRequests++;
  }

  stats(): Readonly<GroupStats> {
    return { ...this.counters };
  }

  /** A cached value that may be served; with `options` (a get, not a flight's second look), also a stale one being revalidated. */
  private lookupCache(key: string, options?: GetOptions): ByteView | undefined {
    if (this.cacheBytes === 0) return undefined;
    const main = this.mainCache.get(key);
    if (main) {
      if (main.expiresAt === 0 || main.expiresAt > this.clock()) {
        this.counters.mainHits++;
        return main;
      }
      if (options && this.revalidating(key, main, options)) return main;
      this.dropPastStale(key, main);
    }
    const hot = this.hotCache.get(key);
    if (hot && this.fresh(this.hotCache, key, hot)) {
      this.counters.hotHits++;
      return hot;
    }
    return undefined;
  }

  /** An expired main-cache value stays while a stale window may still use it, and is dropped past them, as fresh() drops expired values. */
  private dropPastStale(key: string, value: ByteView): void {
    if (this.staleMs > 0 && this.clock() < value.expiresAt + this.staleMs) return;
    this.mainCache.delete(key);
    this.counters.expirations++;
  }

  /**
   * Within stale-while-revalidate, a value this process loads itself is served at once and one
   * refresh starts (joined, not repeated, by the gets that follow). A value held for a key another
   * peer owns is not: the owner serves its own stale copy and refreshes it.
   */
  private revalidating(key: string, value: ByteView, options: GetOptions): boolean {
    if (this.stopped || this.clock() >= value.expiresAt + this.staleWhileRevalidateMs) return false;
    if (!options.fromPeer && this.peers.pickPeer(key) !== undefined) return false;
    this.counters.staleWhileRevalidate++;
    // Failures are counted by loadLocally and met by the next get.
    this.loadFlight.do(key, (call) => this.loadLocally(key, undefined, call)).promise.catch(() => {});
    return true;
  }

  /**
   * Whether a cached value may still be served; an expired one is dropped now. Expired values are
   * not looked for otherwise: until a get finds them, they count against the budget and are
   * evicted in LRU order like any other. Reads the clock only for values that expire.
   */
  private fresh(cache: ByteLru, key: string, value: ByteView): boolean {
    if (value.expiresAt === 0 || value.expiresAt > this.clock()) return true;
    cache.delete(key);
    this.counters.expirations++;
    return false;
  }

  /** When a value loaded (or fetched) now stops being served: the source's expiry, capped by the group's TTL; 0 for never. */
  private expiryOf(sourceExpiry: number): number {
    if (this.ttlMs === 0) return sourceExpiry;
    const cap = this.clock() + this.ttlMs;
    return sourceExpiry === 0 ? cap : Math.min(sourceExpiry, cap);
  }

  /**
   * Invalidates `key` here: drops its cached copies (main and hot), and a load or fetch of it in
   * flight can no longer cache what it brings back (its callers still get it); the next get loads
   * afresh. Returns whether a copy was cached. Other peers are told by the caller.
   */
  remove(key: string): boolean {
    this.counters.removals++;
    this.loadFlight.forget(key);
    this.fetchFlight.forget(key);
    const main = this.mainCache.delete(key);
    const hot = this.hotCache.delete(key);
    return main || hot;
  }

  /** remove() for every key: both caches emptied, every load in flight forgotten. */
  reset(): void {
    this.counters.resets++;
    this.loadFlight.forgetAll();
    this.fetchFlight.forgetAll();
    this.mainCache.clear();
    this.hotCache.clear();
  }

  /** From now on every miss fails (SourceError 503) instead of loading: the node is shutting down. */
  stopLoads(): void {
    this.stopped = true;
  }

  /**
   * The second half of get(), for a caller whose getCached() just missed: loads `key` from its owner
   * or here, counted as a get. It does not validate the key; getCached() did.
   */
  load(key: string, options: GetOptions = {}): Promise<ByteView> {
    this.countGet(options);
    this.counters.loads++;
    if (this.stopped) return Promise.reject(shuttingDown());
    // A peer request is never forwarded: two pods whose rings briefly disagree
    // could otherwise bounce a key between them.
    const owner = options.fromPeer ? undefined : this.peers.pickPeer(key);
    // Loads here and fetches from an owner have separate flights, so a peer request
    // never joins a flight that forwards; all loads of a key here still share one.
    const flight = owner ? this.fetchFlight : this.loadFlight;
    const { promise } = flight.do(key, async (call) => {
      // Check the cache again: a flight for this key may have filled it between our
      // miss and now (two calls that missed back to back, the first already finished).
      const cached = this.lookupCache(key);
      if (cached) return cached;
      this.counters.loadsDeduped++;
      if (owner) {
        try {
          const value = await this.getFromPeer(owner, key, options.signal, call);
          this.counters.peerLoads++;
          return value;
        } catch (err) {
          // The owner answered for its source: its not-found or failure is the answer.
          if (!(err instanceof PeerUnavailableError)) throw err;
          this.counters.peerErrors++;
          this.observer.peerFallback?.(this.name, key, owner.url, err);
        }
      }
      // Just after a membership change, the key's previous holder may still have it cached.
      const previous = owner ? undefined : this.peers.handoffSource?.(key);
      const handed = previous ? await this.peek(previous, key, call) : undefined;
      return handed ?? this.loadLocally(key, options.signal, call);
    });
    return promise;
  }

  private async getFromPeer(peer: PeerGetter, key: string, signal: AbortSignal | undefined, call: Flight): Promise<ByteView> {
    const started = this.now();
    let answer: PeerValue;
    try {
      answer = await peer.get(this.name, key, signal);
    } catch (err) {
      this.observer.loaded?.(this.name, 'peer', (this.now() - started) / 1000, err);
      throw err instanceof GeecacheError ? err : new PeerUnavailableError(peer.url, String(err), { cause: err });
    }
    this.observer.loaded?.(this.name, 'peer', (this.now() - started) / 1000);
    // The decoded bytes belong to this response alone. They may be a view into a larger
    // socket buffer: a cache that keeps the value moves it into a slab (ByteView.adopt).
    // A hot copy never outlives the owner's; an owner that sends no expiry (a Go peer) gets this group's TTL from now.
    const value = ByteView.adopt(answer.value, this.expiryOf(answer.expiresAt));
    // A value the key's invalidation overtook (call.forgotten) goes to its callers, never to the cache.
    if (this.hotCacheEnabled && !call.forgotten && this.isHot(answer)) this.populateCache(this.hotCache, key, value);
    return value;
  }

  /**
   * Whether a value fetched from its owner goes into the hot cache. By the owner's rate when it
   * sends one: always from hotCacheQps up, below it with that share as the chance, so a cold key
   * seldom pushes a warm one out of the hot cache and a hot key gets in on its first fetch. Else by
   * groupcache's coin.
   */
  private isHot(answer: PeerValue): boolean {
    if (this.hotCacheQps > 0 && answer.minuteQps !== undefined) return this.random() * this.hotCacheQps < answer.minuteQps;
    return this.random() * HOT_SAMPLE < 1;
  }

  /**
   * Counts a peer's request for `value` (just answered from cache or loaded here) and returns how
   * often peers ask for it, per second: what an owner sends as GetResponse.minute_qps. The count
   * lives as long as the value does: a key that is not cached has no rate to keep.
   */
  peerRequestRate(value: ByteView): number {
    const now = this.now();
    let rate = this.peerRates.get(value);
    if (!rate) this.peerRates.set(value, (rate = new RequestRate(now)));
    return rate.record(now);
  }

  /** The previous holder's cached copy of `key`, kept here as if loaded; undefined when it has none or cannot say in time. */
  private async peek(peer: PeerGetter, key: string, call: Flight): Promise<ByteView | undefined> {
    if (!peer.peek) return undefined;
    let answer: PeerValue | undefined;
    try {
      answer = await peer.peek(this.name, key);
    } catch {
      this.counters.peekErrors++;
      return undefined;
    }
    const value = answer && ByteView.adopt(answer.value, this.expiryOf(answer.expiresAt));
    if (!value || (value.expiresAt !== 0 && value.expiresAt <= this.clock())) {
      this.counters.peekMisses++;
      return undefined;
    }
    this.counters.peekHits++;
    if (!call.forgotten) this.populateCache(this.mainCache, key, value);
    return value;
  }

  /**
   * Answers another peer's peek: the cached copy of `key` (main or hot, fresh), or undefined. Never
   * loads, and is not counted as a get.
   */
  peekCached(key: string): ByteView | undefined {
    this.counters.peeksServed++;
    if (this.cacheBytes === 0 || keyProblem(key) !== undefined) return undefined;
    const now = this.clock();
    const fresh = (value: ByteView | undefined) => (value && (value.expiresAt === 0 || value.expiresAt > now) ? value : undefined);
    const found = fresh(this.mainCache.peek(key)) ?? fresh(this.hotCache.peek(key));
    if (found) this.counters.peeksAnswered++;
    return found;
  }

  /**
   * Stores a value another peer handed over as if it had been loaded here, unless `accept` says
   * this process does not own the key, it already holds a fresh copy, or the value expired.
   */
  storeHanded(handed: HandedValue, owns: (key: string) => boolean): boolean {
    const { key } = handed;
    const current = this.mainCache.peek(key);
    const fresh = current !== undefined && (current.expiresAt === 0 || current.expiresAt > this.clock());
    if (this.cacheBytes === 0 || this.stopped || keyProblem(key) !== undefined || fresh || !owns(key)) {
      this.counters.handoffRefused++;
      return false;
    }
    const expiresAt = this.expiryOf(handed.expiresAt);
    if (expiresAt !== 0 && expiresAt <= this.clock()) {
      this.counters.handoffRefused++;
      return false;
    }
    // The bytes are a view into the request body: copied, so the cache does not pin the whole body.
    this.populateCache(this.mainCache, key, ByteView.copyOf(handed.value, expiresAt));
    this.counters.handoffStored++;
    this.counters.handoffStoredBytes += handed.value.byteLength;
    return true;
  }

  /** The main cache's fresh entries, most recently used first: what this process hands over when it leaves. */
  *handoffEntries(): Generator<[string, ByteView]> {
    const now = this.clock();
    for (const [key, value] of this.mainCache.entries()) {
      if (value.expiresAt === 0 || value.expiresAt > now) yield [key, value];
    }
  }

  private async loadLocally(key: string, signal: AbortSignal | undefined, call: Flight): Promise<ByteView> {
    // A fetch from the owner that failed during shutdown falls back here: no load for a client that is gone.
    if (this.stopped) throw shuttingDown();
    const started = this.now();
    let value: ByteView;
    try {
      const loaded = await this.getter(key, signal);
      value = loaded instanceof ByteView ? loaded : ByteView.copyOf(loaded);
      const expiresAt = this.expiryOf(value.expiresAt);
      if (expiresAt !== value.expiresAt) value = ByteView.expiringAt(value, expiresAt);
    } catch (err) {
      this.counters.localLoadErrors++;
      this.observer.loaded?.(this.name, 'local', (this.now() - started) / 1000, err);
      // Within stale-if-error the expired copy answers instead; not-found is an answer, not an error.
      if (!(err instanceof NotFoundError)) {
        this.counters.sourceFailures++;
        const stale = this.staleIfError(key);
        if (stale) return stale;
      }
      if (err instanceof NotFoundError || err instanceof SourceError) throw err;
      throw new SourceError(`loading ${JSON.stringify(key)} failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    this.counters.localLoads++;
    this.observer.loaded?.(this.name, 'local', (this.now() - started) / 1000);
    if (!call.forgotten) this.populateCache(this.mainCache, key, value);
    return value;
  }

  /** The expired main-cache copy of `key` if it is within stale-if-error, counted as served. */
  private staleIfError(key: string): ByteView | undefined {
    if (this.staleIfErrorMs === 0) return undefined;
    const stale = this.mainCache.peek(key);
    if (!stale || stale.expiresAt === 0 || this.clock() >= stale.expiresAt + this.staleIfErrorMs) return undefined;
    this.counters.staleIfError++;
    return stale;
  }

  /** Adds to one cache, then evicts until main + hot fit the budget, hot first once it exceeds its share. */
  private populateCache(cache: ByteLru, key: string, value: ByteView): void {
    if (this.cacheBytes === 0) return;
    // Already expired (a source that says so, e.g. no-store): served to this caller, never cached,
    // and no older copy is kept to be served stale in its place.
    if (value.expiresAt !== 0 && value.expiresAt <= this.clock()) {
      cache.delete(key);
      return;
    }
    cache.set(key, value);
    for (;;) {
      const mainBytes = this.mainCache.bytes;
      const hotBytes = this.hotCache.bytes;
      if (mainBytes + hotBytes <= this.cacheBytes) return;
      const victim = hotBytes > mainBytes / HOT_SHARE ? this.hotCache : this.mainCache;
      if (!victim.removeOldest()) return;
    }
  }
}
