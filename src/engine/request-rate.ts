// request-rate.ts estimates how often each key is asked for: the rate an owner sends as GetResponse.minute_qps.
import { KeyBytes } from './store/key-bytes.js';

/** The window the rate is averaged over: groupcache's field is the key's QPS over the last minute. */
const WINDOW_MS = 60_000;
/** Rows of the sketch: a key's count is the least of its cells, one per row. */
const ROWS = 4;
/** Cells per row, a power of two. */
const ROW_CELLS = 1 << 14;

/**
 * Requests per second for each key over about the last minute, in a count-min sketch: a fixed
 * 4 × 16,384 Uint32 cells for this window and as many for the last one (512 KiB, allocated on the
 * first request), whatever the number of keys, so a cached entry costs nothing here. A key's count
 * is the least of its four cells; keys that share all four cells add up, so an estimate is never
 * low and too high only by what collides: at most e·N/16,384 requests a window with probability
 * 1 − e⁻⁴ ≈ 98% (N the requests in the window), i.e. under 2/s for a pod answering 10,000 peer
 * requests a second. Conservative update (only the least cells grow) makes that rarer still.
 *
 * The rate is this window's count plus the last window's weighted by how much of it still lies
 * within a minute of now (a sliding window without timestamps). Before a first full window, the
 * rate is over the time observed (at least a second). No allocation per request.
 */
export class RequestRates {
  private windowStart: number;
  private current: Uint32Array | undefined;
  private previous: Uint32Array | undefined;
  /** Whether a full window has passed: before, the rate is over the time observed. */
  private hasPrevious = false;
  private readonly key = new KeyBytes();
  /** The cells of the key being recorded, one per row. */
  private readonly cells = new Int32Array(ROWS);

  constructor(now: number) {
    this.windowStart = now;
  }

  /** Counts one request for `key` at `now` (a monotonic ms clock) and returns its rate, per second. */
  record(key: string, now: number): number {
    this.advance(now);
    const current = (this.current ??= new Uint32Array(ROWS * ROW_CELLS));
    this.key.encode(key);
    // Double hashing: row i's cell is h1 + i·h2, h2 odd so the rows' cells differ.
    const h1 = this.key.hash;
    const h2 = (Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) | 1) >>> 0;
    let least = 0xffffffff;
    for (let row = 0; row < ROWS; row++) {
      const cell = row * ROW_CELLS + ((h1 + Math.imul(row, h2)) & (ROW_CELLS - 1));
      this.cells[row] = cell;
      if (current[cell]! < least) least = current[cell]!;
    }
    let before = 0xffffffff;
    for (let row = 0; row < ROWS; row++) {
      const cell = this.cells[row]!;
      if (current[cell] === least) current[cell] = least + 1;
      if (this.previous !== undefined && this.previous[cell]! < before) before = this.previous[cell]!;
    }
    const count = least + 1;
    const into = now - this.windowStart;
    if (!this.hasPrevious) return count / (Math.max(into, 1000) / 1000);
    const last = this.previous === undefined ? 0 : before;
    return (last * (1 - into / WINDOW_MS) + count) / (WINDOW_MS / 1000);
  }

  /** Starts a new window when a minute has passed; after two or more, both are empty. */
  private advance(now: number): void {
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    const windows = Math.floor(elapsed / WINDOW_MS);
    this.windowStart += windows * WINDOW_MS;
    this.hasPrevious = true;
    if (this.current === undefined) return;
    const emptied = windows === 1 ? this.previous : this.current;
    if (windows === 1) this.previous = this.current;
    else this.previous?.fill(0);
    this.current = emptied ?? new Uint32Array(ROWS * ROW_CELLS);
    this.current.fill(0);
  }
}
