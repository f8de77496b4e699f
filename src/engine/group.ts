// group.ts is a cache namespace: main and hot caches, the load path through the owner peer, and its stats.
import { ByteView } from './byteview.js';
import { zeroed, type Counters } from './counters.js';
import { GeecacheError, InvalidKeyError, NotFoundError, PeerUnavailableError, SourceError } from '../errors.js';
import { Freshness, type FreshnessOptions } from './freshness.js';
import { GroupHandoff, type HandoffCounter } from './handoff/group-handoff.js';
import { keyProblem } from './key.js';
import type { SegmentLedger } from '../memory/segment-ledger.js';
import { noPeers, type PeerGetter, type PeerPicker, type PeerValue } from './peers.js';
import { RequestRates } from './request-rate.js';
import { SingleFlight, type Flight } from './singleflight.js';
import { CompactStore } from './store/compact-store.js';

/**
 * Loads a key from the slow source. Rejects with NotFoundError when the key
 * does not exist; any other rejection is a source failure. Bytes and strings are
 * copied; a source that hands over bytes it keeps no reference to may return
 * ByteView.adopt(bytes) to spare the copy.
 */
export type Getter = (key: string, signal?: AbortSignal) => Promise<Uint8Array | string | ByteView>;

/** groupcache's per-group counters, by name; all only ever grow. */
const GROUP_COUNTERS = [
  /** Every get, including those that hit a cache. */
  'gets',
  'mainHits',
  'hotHits',
  /** Gets that missed both caches and went down the load path. */
  'loads',
  /** Loads left after singleflight: concurrent gets of one key that missed count once (groupcache's LoadsDeduped). */
  'loadsDeduped',
  /** Values fetched from the owner peer. */
  'peerLoads',
  /** Failed peer fetches that fell back to a local load. */
  'peerErrors',
  /** Values the getter loaded (groupcache's LocalLoads). */
  'localLoads',
  /** Getter calls that failed, not-found included (groupcache's LocalLoadErrs). */
  'localLoadErrors',
  /** Of those, the ones that were not a not-found: the source failed. */
  'sourceFailures',
  /** Gets that arrived from another peer over the peer protocol. */
  'serverRequests',
  /** Cached values found expired (and dropped) when a get looked for them. */
  'expirations',
  /** Expired values served while a refresh ran (stale-while-revalidate). */
  'staleWhileRevalidate',
  /** Expired values served because the load failed (stale-if-error). */
  'staleIfError',
] as const;

/** A group's counters and its handoff's (handoff/group-handoff.ts), as stats() reports them. */
export type GroupStats = Counters<(typeof GROUP_COUNTERS)[number] | HandoffCounter | 'loadsAbandoned'>;

/** What the group reports as it works, for logs and metrics; all optional. */
export interface GroupObserver {
  /** A finished fetch from the owner (`peer`) or the getter (`local`), with its duration. */
  loaded?(group: string, where: 'peer' | 'local', seconds: number, error?: unknown): void;
  /** The owner could not be reached; the key is being loaded locally instead. */
  peerFallback?(group: string, key: string, peer: string, error: PeerUnavailableError): void;
}

/** A group's settings; ttlMs and the stale windows are freshness.ts's. */
export interface GroupOptions extends FreshnessOptions {
  name: string;
  /** Byte budget shared by the main and hot caches: key + value + ENTRY_OVERHEAD_BYTES per entry (store/compact-store.ts). 0 disables caching. */
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
  /** Where the caches' segments are counted until the GC frees them. Default none; a GroupRegistry passes its node's. */
  segmentLedger?: SegmentLedger;
  /** Wall clock in ms since the epoch, for expiry (pods compare expiries). Default Date.now. */
  clock?: () => number;
}

export interface GetOptions {
  /** The request came over the peer protocol: answer from cache or a local load, never forward. */
  fromPeer?: boolean;
  signal?: AbortSignal;
}

export interface SetOptions {
  /**
   * How long the value is served, in ms; the group's ttlMs caps it. Default (or 0): the group's
   * ttlMs, which is until evicted when the group has none.
   */
  ttlMs?: number;
}

/** The options of every get that arrived over the peer protocol. */
export const FROM_PEER: GetOptions = Object.freeze({ fromPeer: true });

// What a key may be (key.ts), for callers that check keys where they enter.
export { keyProblem, MAX_KEY_BYTES } from './key.js';

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
  readonly mainCache: CompactStore;
  /** A sample of values owned by other peers, to spare the owner of a hot key. */
  readonly hotCache: CompactStore;
  private readonly getter: Getter;
  private readonly peers: PeerPicker;
  private readonly hotCacheEnabled: boolean;
  private readonly hotCacheQps: number;
  /** How often peers ask for each key this process serves them; made on the first peer request. */
  private peerRates: RequestRates | undefined;
  private readonly random: () => number;
  private readonly now: () => number;
  /** When values stop being served: TTL, stale windows, and the wall clock they are read by. */
  readonly freshness: Freshness;
  private readonly observer: GroupObserver;
  private readonly loadFlight = new SingleFlight<ByteView>();
  private readonly fetchFlight = new SingleFlight<ByteView>();
  /** Set by stopLoads(): a shutdown past its drain deadline starts no load for clients that are gone. */
  private stopped = false;
  private readonly counters = zeroed(GROUP_COUNTERS);
  /** Peeks sent and answered, values handed here and on: this group's side of handoff. */
  readonly handoff: GroupHandoff;

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
    this.freshness = new Freshness(options, options.clock ?? Date.now);
    this.observer = options.observer ?? {};
    const ceiling = Math.max(1, options.cacheBytes);
    const storeOptions = { ledger: options.segmentLedger, clock: this.freshness.clock };
    this.mainCache = new CompactStore(ceiling, storeOptions);
    this.hotCache = new CompactStore(ceiling, storeOptions);
    this.handoff = new GroupHandoff({
      name: this.name,
      peers: this.peers,
      freshness: this.freshness,
      mainCache: this.mainCache,
      hotCache: this.hotCache,
      caches: this.cacheBytes > 0,
      accepting: () => !this.stopped,
      keep: (key, value) => this.populateCache(this.mainCache, key, value),
    });
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
    // Loads whose every caller left before they finished: their signal aborted the work (singleflight.ts).
    const loadsAbandoned = this.loadFlight.abandoned + this.fetchFlight.abandoned;
    return { ...this.counters, loadsAbandoned, ...this.handoff.stats() };
  }

  /** A cached value that may be served; with `options` (a get, not a flight's second look), also a stale one being revalidated. */
  private lookupCache(key: string, options?: GetOptions): ByteView | undefined {
    if (this.cacheBytes === 0) return undefined;
    const main = this.mainCache.get(key);
    if (main) {
      if (this.freshness.isFresh(main.expiresAt)) {
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
    if (!this.freshness.pastStale(value.expiresAt)) return;
    this.mainCache.delete(key);
    this.counters.expirations++;
  }

  /**
   * Within stale-while-revalidate, a value this process loads itself is served at once and one
   * refresh starts (joined, not repeated, by the gets that follow). A value held for a key another
   * peer owns is not: the owner serves its own stale copy and refreshes it.
   */
  private revalidating(key: string, value: ByteView, options: GetOptions): boolean {
    if (this.stopped || !this.freshness.mayServeWhileRevalidating(value.expiresAt)) return false;
    if (!options.fromPeer && this.peers.pickPeer(key) !== undefined) return false;
    this.counters.staleWhileRevalidate++;
    // Failures are counted by loadLocally and met by the next get.
    this.loadFlight.do(key, (call) => this.loadLocally(key, call)).promise.catch(() => {});
    return true;
  }

  /**
   * Whether a cached value may still be served; an expired one is dropped now. Expired values are
   * not looked for otherwise: until a get finds them, they count against the budget and are
   * evicted in LRU order like any other. Reads the clock only for values that expire.
   */
  private fresh(cache: CompactStore, key: string, value: ByteView): boolean {
    if (this.freshness.isFresh(value.expiresAt)) return true;
    cache.delete(key);
    this.counters.expirations++;
    return false;
  }

  /**
   * Invalidates `key` here: drops its cached copies (main and hot), and a load or fetch of it in
   * flight can no longer cache what it brings back (its callers still get it); the next get loads
   * afresh. Returns whether a copy was cached. Other peers are told by the caller.
   */
  remove(key: string): boolean {
    this.loadFlight.forget(key);
    this.fetchFlight.forget(key);
    const main = this.mainCache.delete(key);
    const hot = this.hotCache.delete(key);
    return main || hot;
  }

  /**
   * Stores `value` for `key` in this process's main cache, as its owner holds it, and drops any hot
   * copy. A load or fetch of the key in flight is forgotten as remove() forgets it, so what it brings
   * back cannot overwrite the value set. Returns the value as cached (not cached at all when the group
   * caches nothing). Other peers are told by the caller. Throws InvalidKeyError, or TypeError for a
   * bad ttlMs.
   */
  set(key: string, value: Uint8Array | string, options: SetOptions = {}): ByteView {
    const problem = keyProblem(key);
    if (problem !== undefined) throw new InvalidKeyError(problem);
    const ttlMs = options.ttlMs ?? 0;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new TypeError(`ttlMs must be a non-negative integer, got ${options.ttlMs}`);
    this.loadFlight.forget(key);
    this.fetchFlight.forget(key);
    this.hotCache.delete(key);
    const view = ByteView.copyOf(value, this.freshness.expiryOf(ttlMs > 0 ? this.freshness.clock() + ttlMs : 0));
    this.populateCache(this.mainCache, key, view);
    return view;
  }

  /** remove() for every key: both caches emptied, every load in flight forgotten. */
  reset(): void {
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
    // Each caller waits with its own signal; the flight's signal aborts the fetch or the source's
    // load only once all of them have left, so the callers that stay still share one load.
    const { promise } = flight.do(key, async (call) => {
      // Check the cache again: a flight for this key may have filled it between our
      // miss and now (two calls that missed back to back, the first already finished).
      const cached = this.lookupCache(key);
      if (cached) return cached;
      this.counters.loadsDeduped++;
      if (owner) {
        try {
          const value = await this.getFromPeer(owner, key, call);
          this.counters.peerLoads++;
          return value;
        } catch (err) {
          // The owner answered for its source: its not-found or failure is the answer. Nobody waits
          // any more (call.abandoned): no fallback load either.
          if (!(err instanceof PeerUnavailableError) || call.abandoned) throw err;
          this.counters.peerErrors++;
          this.observer.peerFallback?.(this.name, key, owner.url, err);
        }
      }
      // Just after a membership change, the key's previous holder may still have it cached.
      const peek = owner ? undefined : this.handoff.askPreviousHolder(key);
      const handed = peek && (await peek);
      if (!handed) return this.loadLocally(key, call);
      if (!call.forgotten) this.populateCache(this.mainCache, key, handed);
      return handed;
    }, options.signal);
    return promise;
  }

  private async getFromPeer(peer: PeerGetter, key: string, call: Flight): Promise<ByteView> {
    const started = this.now();
    let answer: PeerValue;
    try {
      answer = await peer.get(this.name, key, call);
    } catch (err) {
      this.observer.loaded?.(this.name, 'peer', (this.now() - started) / 1000, err);
      throw err instanceof GeecacheError ? err : new PeerUnavailableError(peer.url, String(err), { cause: err });
    }
    this.observer.loaded?.(this.name, 'peer', (this.now() - started) / 1000);
    // The decoded bytes belong to this response alone (a view into the socket's buffer): a cache
    // that keeps the value copies them, so no copy is made for callers (ByteView.adopt).
    // A hot copy never outlives the owner's; an owner that sends no expiry (a Go peer) gets this group's TTL from now.
    const value = ByteView.adopt(answer.value, this.freshness.expiryOf(answer.expiresAt));
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
   * Counts a peer's request for `key` (just answered from cache or loaded here) and returns how
   * often peers ask for it, per second: what an owner sends as GetResponse.minute_qps. Counted in
   * a fixed-size sketch (request-rate.ts), so the count costs a cached entry nothing.
   */
  peerRequestRate(key: string): number {
    const now = this.now();
    return (this.peerRates ??= new RequestRates(now)).record(key, now);
  }

  private async loadLocally(key: string, call: Flight): Promise<ByteView> {
    // A fetch from the owner that failed during shutdown falls back here: no load for a client that is gone.
    if (this.stopped) throw shuttingDown();
    const started = this.now();
    let value: ByteView;
    try {
      const loaded = await this.getter(key, call.signal);
      value = loaded instanceof ByteView ? loaded : ByteView.copyOf(loaded);
      const expiresAt = this.freshness.expiryOf(value.expiresAt);
      if (expiresAt !== value.expiresAt) value = ByteView.expiringAt(value, expiresAt);
    } catch (err) {
      // Every caller left and the load was aborted for it: not the source's failure.
      if (call.abandoned) throw err;
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
    const stale = this.mainCache.peek(key);
    if (!stale || !this.freshness.mayServeOnError(stale.expiresAt)) return undefined;
    this.counters.staleIfError++;
    return stale;
  }

  /** Adds to one cache, then evicts until main + hot fit the budget, hot first once it exceeds its share. */
  private populateCache(cache: CompactStore, key: string, value: ByteView): void {
    if (this.cacheBytes === 0) return;
    // Already expired (a source that says so, e.g. no-store): served to this caller, never cached,
    // and no older copy is kept to be served stale in its place.
    if (!this.freshness.isFresh(value.expiresAt)) {
      cache.delete(key);
      return;
    }
    // The store copies the bytes into its segments: the view given to callers keeps its own.
    cache.set(key, ByteView.bytesForWrite(value), value.expiresAt);
    for (;;) {
      const mainBytes = this.mainCache.bytes;
      const hotBytes = this.hotCache.bytes;
      if (mainBytes + hotBytes <= this.cacheBytes) return;
      const victim = hotBytes > mainBytes / HOT_SHARE ? this.hotCache : this.mainCache;
      if (!victim.removeOldest()) return;
    }
  }
}
