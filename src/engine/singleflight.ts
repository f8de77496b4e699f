// singleflight.ts gives concurrent calls for one key a single in-flight execution and its result.

/** One execution in flight; `forgotten` tells it that its result is no longer what later callers should see. */
export interface Flight {
  readonly forgotten: boolean;
}

interface Entry<T> {
  promise: Promise<T>;
  flight: { forgotten: boolean };
}

/**
 * While a call for a key is in flight, later callers for that key share its
 * promise (result or error). Once it settles the key is forgotten, so the next
 * call runs the function again: nothing is cached here.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Entry<T>>();

  /** Runs `fn` unless a call for `key` is in flight; `shared` tells whether this call joined one. */
  do(key: string, fn: (flight: Flight) => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.inFlight.get(key);
    if (existing) return { promise: existing.promise, shared: true };
    const flight = { forgotten: false };
    // Starting fn in a later microtask means even a synchronous throw settles the promise
    // after it is registered, so the cleanup below always finds and removes it.
    const promise: Promise<T> = Promise.resolve()
      .then(() => fn(flight))
      .finally(() => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
      });
    this.inFlight.set(key, { promise, flight });
    return { promise, shared: false };
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
}
