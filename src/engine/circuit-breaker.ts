// circuit-breaker.ts decides whether to ask a peer at all: after repeated silence it stops paying the timeout, and probes the peer back.

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive requests without an answer that open the circuit. Default 3. */
  failures?: number;
  /** How long the circuit first stays open before one probe goes through. Default 1000 ms. */
  openMs?: number;
  /** Each failed probe doubles the open time, up to this. Default 30 000 ms. */
  maxOpenMs?: number;
}

/**
 * Closed: every request goes. After `failures` requests in a row got no answer (refused, reset,
 * timed out), open: none goes, and callers fall back at once instead of each waiting out the
 * timeout. After the open time, half-open: one probe goes; an answer closes the circuit, silence
 * opens it again for twice as long. Pure: the caller passes the clock.
 */
export class CircuitBreaker {
  private readonly threshold: number;
  private readonly baseOpenMs: number;
  private readonly maxOpenMs: number;
  private silentInARow = 0;
  private openUntil = 0;
  private openMs: number;
  private probing = false;
  private current: CircuitState = 'closed';
  /** Times the circuit opened (a failed probe counts again). */
  trips = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failures ?? 3;
    this.baseOpenMs = options.openMs ?? 1000;
    this.maxOpenMs = options.maxOpenMs ?? 30_000;
    if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new TypeError(`failures must be a positive integer, got ${this.threshold}`);
    if (!(this.baseOpenMs > 0) || !(this.maxOpenMs >= this.baseOpenMs)) {
      throw new TypeError(`openMs must be > 0 and maxOpenMs >= openMs, got ${this.baseOpenMs} and ${this.maxOpenMs}`);
    }
    this.openMs = this.baseOpenMs;
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Whether a request may go now. In half-open, true once: for the probe. */
  allow(now: number): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (now < this.openUntil) return false;
      this.current = 'half-open';
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** The peer answered (any status: it is alive). */
  answered(): void {
    this.silentInARow = 0;
    this.probing = false;
    this.openMs = this.baseOpenMs;
    this.current = 'closed';
  }

  /** A request got no answer. */
  silent(now: number): void {
    this.silentInARow++;
    if (this.current === 'half-open') {
      this.probing = false;
      this.openMs = Math.min(this.maxOpenMs, this.openMs * 2);
      this.open(now);
    } else if (this.current === 'closed' && this.silentInARow >= this.threshold) {
      this.open(now);
    }
  }

  private open(now: number): void {
    this.current = 'open';
    this.openUntil = now + this.openMs;
    this.trips++;
  }
}
