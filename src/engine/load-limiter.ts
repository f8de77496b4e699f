// load-limiter.ts bounds how many loads of one source run at once and how many may wait for a turn.
import { LoadShedError } from '../errors.js';

export interface LoadLimiterOptions {
  /** Loads running at once at most. */
  concurrency: number;
  /** Loads waiting for a turn at most; past it a load is refused at once with LoadShedError. */
  queue: number;
  /** Names the source in the refusal's message. */
  name: string;
}

interface Waiting {
  start: () => void;
}

/**
 * Runs loads up to `concurrency` at a time, queues up to `queue` more in arrival order, and sheds the
 * rest (503 + Retry-After where it reaches a client): a slow source then costs callers a fast refusal,
 * not a queue that grows while they give up. A queued load whose signal aborts leaves the queue and
 * never reaches the source.
 */
export class LoadLimiter {
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly name: string;
  private readonly waiting = new Set<Waiting>();
  private runningCount = 0;
  private shedCount = 0;
  private leftQueueCount = 0;

  constructor(options: LoadLimiterOptions) {
    for (const [name, value, min] of [['concurrency', options.concurrency, 1], ['queue', options.queue, 0]] as const) {
      if (!Number.isInteger(value) || value < min) throw new TypeError(`LoadLimiter: ${name} must be a whole number ≥ ${min}, got ${value}`);
    }
    this.concurrency = options.concurrency;
    this.maxQueued = options.queue;
    this.name = options.name;
  }

  /** Runs `load` now or when a turn comes; rejects with LoadShedError when the queue is full, or the signal's reason when it aborts first. */
  run<T>(load: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.runningCount < this.concurrency) return this.start(load);
    if (this.waiting.size >= this.maxQueued) {
      this.shedCount++;
      const busy = `${this.concurrency} loads running and ${this.maxQueued} waiting; try again shortly`;
      // The name (an origin's URL) goes to the log only.
      return Promise.reject(new LoadShedError(`${this.name}: ${busy}`, { publicMessage: busy }));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.waiting.delete(entry);
        this.leftQueueCount++;
        reject(signal!.reason as Error);
      };
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.start(load).then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(entry);
    });
  }

  private async start<T>(load: () => Promise<T>): Promise<T> {
    this.runningCount++;
    try {
      return await load();
    } finally {
      this.runningCount--;
      this.next();
    }
  }

  private next(): void {
    // A Set iterates in insertion order: the oldest waiting load goes first.
    for (const entry of this.waiting) {
      this.waiting.delete(entry);
      entry.start();
      return;
    }
  }

  /** Loads running now. */
  get running(): number {
    return this.runningCount;
  }

  /** Loads waiting for a turn now. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Loads refused because the queue was full. */
  get shed(): number {
    return this.shedCount;
  }

  /** Queued loads whose callers left before their turn: they never reached the source. */
  get leftQueue(): number {
    return this.leftQueueCount;
  }
}
