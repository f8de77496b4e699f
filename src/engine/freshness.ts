// freshness.ts is when a cached value may be served: its expiry, the group's TTL cap, and the stale windows past it.

/** Whether a value expiring at `expiresAt` (ms since the epoch; 0: never) may still be served at `now`. */
export function isFresh(expiresAt: number, now: number): boolean {
  return expiresAt === 0 || expiresAt > now;
}

/** When a value the source says expires at `sourceExpiry` stops being served, capped at `ttlMs` from `now` (0: no cap); 0 for never. */
export function expiryOf(sourceExpiry: number, ttlMs: number, now: number): number {
  if (ttlMs === 0) return sourceExpiry;
  const cap = now + ttlMs;
  return sourceExpiry === 0 ? cap : Math.min(sourceExpiry, cap);
}

/** Whether an expired value is still within a stale window of `windowMs` past its expiry (0: no window). */
export function withinStaleWindow(expiresAt: number, windowMs: number, now: number): boolean {
  return windowMs > 0 && expiresAt !== 0 && now < expiresAt + windowMs;
}

export interface FreshnessOptions {
  /**
   * How long a loaded value is served, in ms; 0 (the default): until it is evicted, as groupcache.
   * A value the source says expires sooner expires then; a value fetched from its owner keeps the
   * owner's expiry, capped the same way.
   */
  ttlMs?: number;
  /**
   * For this long past its expiry, a value this process loads itself (it owns the key, or a peer
   * asked) is still served at once while one refresh loads it again. Default 0: never.
   */
  staleWhileRevalidateMs?: number;
  /** For this long past its expiry, such a value is served instead of a failed load's error. Default 0: never. */
  staleIfErrorMs?: number;
}

/** One group's freshness settings bound to its wall clock: what the group and its handoff ask about a value's expiry. */
export class Freshness {
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  /** How long past its expiry a value may still be of use: the longer stale window. */
  private readonly staleMs: number;

  constructor(
    options: FreshnessOptions,
    /** Wall clock in ms since the epoch: pods compare expiries. */
    readonly clock: () => number,
  ) {
    this.ttlMs = options.ttlMs ?? 0;
    this.staleWhileRevalidateMs = options.staleWhileRevalidateMs ?? 0;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 0;
    for (const [name, value] of [['ttlMs', this.ttlMs], ['staleWhileRevalidateMs', this.staleWhileRevalidateMs], ['staleIfErrorMs', this.staleIfErrorMs]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${value}`);
    }
    this.staleMs = Math.max(this.staleWhileRevalidateMs, this.staleIfErrorMs);
  }

  /** isFresh now; reads the clock only for values that expire. */
  isFresh(expiresAt: number): boolean {
    return expiresAt === 0 || expiresAt > this.clock();
  }

  /** expiryOf now, with this group's TTL. */
  expiryOf(sourceExpiry: number): number {
    return this.ttlMs === 0 ? sourceExpiry : expiryOf(sourceExpiry, this.ttlMs, this.clock());
  }

  /** Whether an expired value may be served while one refresh loads it again (stale-while-revalidate). */
  mayServeWhileRevalidating(expiresAt: number): boolean {
    return withinStaleWindow(expiresAt, this.staleWhileRevalidateMs, this.clock());
  }

  /** Whether an expired value may be served instead of a failed load's error (stale-if-error). */
  mayServeOnError(expiresAt: number): boolean {
    return withinStaleWindow(expiresAt, this.staleIfErrorMs, this.clock());
  }

  /** Whether an expired value is past both stale windows: of no more use, to be dropped. */
  pastStale(expiresAt: number): boolean {
    return !withinStaleWindow(expiresAt, this.staleMs, this.clock());
  }
}
