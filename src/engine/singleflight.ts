// singleflight.ts gives concurrent calls for one key a single in-flight execution and its result.
import { untilAborted } from './until-aborted.js';

/** One execution in flight, as its function sees it. */
export interface Flight {
  /** Its result is no longer what later callers should see (forget()): it must not be cached. */
  readonly forgotten: boolean;
  /** Every caller that joined with a signal has left and none joined without one: nobody waits for the result. */
  readonly abandoned: boolean;
  /**
   * Aborted once the flight is abandoned. Made on first read: most flights end before any caller
   * leaves, and a batched peer fetch never reads it, so a hop makes no AbortController of its own.
   */
  readonly signal: AbortSignal;
}

/** The reason a flight's signal gives when its last caller left. */
export class FlightAbandonedError extends Error {
  readonly code = 'ERR_FLIGHT_ABANDONED';
  constructor(key: string) {
    super(`every caller waiting for ${JSON.stringify(key)} left`);
    this.name = 'FlightAbandonedError';
  }
}

/** A flight's state, shared by its function and the callers. */
class FlightState implements Flight {
  forgotten = false;
  abandoned = false;
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  constructor(private readonly key: string) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abandoned) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abandon(): void {
    this.abandoned = true;
    this.reason = new FlightAbandonedError(this.key);
    this.controller?.abort(this.reason);
  }
}

interface Entry<T> {
  promise: Promise<T>;
  flight: FlightState;
  /** Callers still waiting that can leave (they passed a signal). */
  waiters: number;
  /** A caller without a signal joined: it never leaves, so the flight is never abandoned. */
  pinned: boolean;
  settled: boolean;
}

/**
 * While a call for a key is in flight, later callers for that key share its
 * promise (result or error). Once it settles the key is forgotten, so the next
 * call runs the function again: nothing is cached here.
 *
 * A caller may pass its own AbortSignal: when it aborts, that caller alone is rejected with the
 * signal's reason; when the last caller leaves this way, the flight's signal aborts (so the
 * work stops) and the key is free for a new call.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Entry<T>>();
  private abandonedCount = 0;

  /** Runs `fn` unless a call for `key` is in flight; `shared` tells whether this call joined one. */
  do(key: string, fn: (flight: Flight) => Promise<T>, signal?: AbortSignal): { promise: Promise<T>; shared: boolean } {
    if (signal?.aborted) return { promise: Promise.reject(signal.reason as Error), shared: false };
    const existing = this.inFlight.get(key);
    if (existing) return { promise: this.join(key, existing, signal), shared: true };
    const flight = new FlightState(key);
    const entry = { flight, waiters: 0, pinned: false, settled: false } as Entry<T>;
    // Starting fn in a later microtask means even a synchronous throw settles the promise
    // after it is registered, so the cleanup below always finds and removes it.
    entry.promise = Promise.resolve()
      .then(() => fn(flight))
      .finally(() => {
        entry.settled = true;
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      });
    // Every caller may have left: its rejection then has nobody to handle it.
    entry.promise.catch(() => undefined);
    this.inFlight.set(key, entry);
    return { promise: this.join(key, entry, signal), shared: false };
  }

  private join(key: string, entry: Entry<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) {
      entry.pinned = true;
      return entry.promise;
    }
    entry.waiters++;
    return untilAborted(entry.promise, signal, () => this.leave(key, entry));
  }

  private leave(key: string, entry: Entry<T>): void {
    if (--entry.waiters > 0 || entry.pinned || entry.settled) return;
    // A later call starts afresh rather than joining work being torn down.
    if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    this.abandonedCount++;
    entry.flight.abandon();
  }

  /**
   * Lets the next call for `key` start afresh instead of joining the one in flight, and marks that
   * one forgotten. Its callers still get its result.
   */
  forget(key: string): void {
    const entry = this.inFlight.get(key);
    if (!entry) return;
    entry.flight.forgotten = true;
    this.inFlight.delete(key);
  }

  /** forget() for every key. */
  forgetAll(): void {
    for (const entry of this.inFlight.values()) entry.flight.forgotten = true;
    this.inFlight.clear();
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Flights whose every caller left before they settled (their signal aborted). */
  get abandoned(): number {
    return this.abandonedCount;
  }
}
