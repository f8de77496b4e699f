// request-rate.ts estimates how often one key is asked for: the rate an owner sends as GetResponse.minute_qps.

/** The window the rate is averaged over: groupcache's field is the key's QPS over the last minute. */
const WINDOW_MS = 60_000;

/**
 * Requests per second over about the last minute, from two counters: this window's and the last
 * one's, the latter weighted by how much of it still lies within a minute of now (a sliding window
 * without a list of timestamps). Before a first full window, the rate is over the time observed
 * (at least a second), so a key that turns hot shows it within seconds. No allocation per request.
 */
export class RequestRate {
  private windowStart: number;
  private count = 0;
  /** The last full window's count; -1 before there was one. */
  private previous = -1;

  constructor(now: number) {
    this.windowStart = now;
  }

  /** Counts one request at `now` (a monotonic ms clock) and returns the rate, per second. */
  record(now: number): number {
    const elapsed = now - this.windowStart;
    if (elapsed >= WINDOW_MS) {
      const windows = Math.floor(elapsed / WINDOW_MS);
      this.previous = windows === 1 ? this.count : 0;
      this.count = 0;
      this.windowStart += windows * WINDOW_MS;
    }
    this.count++;
    const into = now - this.windowStart;
    if (this.previous < 0) return this.count / (Math.max(into, 1000) / 1000);
    return (this.previous * (1 - into / WINDOW_MS) + this.count) / (WINDOW_MS / 1000);
  }
}
