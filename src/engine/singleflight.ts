// singleflight.ts gives concurrent calls for one key a single in-flight execution and its result.

/**
 * While a call for a key is in flight, later callers for that key share its
 * promise (result or error). Once it settles the key is forgotten, so the next
 * call runs the function again: nothing is cached here.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Runs `fn` unless a call for `key` is in flight; `shared` tells whether this call joined one. */
  do(key: string, fn: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.inFlight.get(key);
    if (existing) return { promise: existing, shared: true };
    // Starting fn in a later microtask means even a synchronous throw settles the promise
    // after it is registered, so the cleanup below always finds and removes it.
    const promise: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.inFlight.get(key) === promise) this.inFlight.delete(key);
      });
    this.inFlight.set(key, promise);
    return { promise, shared: false };
  }

  get size(): number {
    return this.inFlight.size;
  }
}
