// idle-gc.ts runs IdleGcPolicy on a timer and asks V8 for a full GC when it says so (see idle-gc-policy.ts for why).
import { getHeapSpaceStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { IdleGcPolicy, type Collection } from './idle-gc-policy.js';
import type { SegmentLedger } from './segment-ledger.js';

/** Runs a full collection of the kind asked from a task rather than inside the caller; resolves when it is done. */
export type CollectGarbage = (kind: Collection) => Promise<void>;

export interface IdleGcOptions {
  ledger: SegmentLedger;
  /** How to collect. Default: the `gc` function node exposes with --expose-gc; without it the timer does not run. */
  collect?: CollectGarbage;
  /**
   * How often the ledger is read. Default 500 ms: under a flood of misses requests promote about 10 MB a second
   * into V8's old space, and at one tick a second (a collection at most every other tick) the old space grew by
   * 20-60 MiB before one; the reliability run's memory rows peaked 20 MiB over their limit (docs/performance.md).
   */
  intervalMs?: number;
  policy?: IdleGcPolicy;
  logger: Logger;
}

/** Collections through the `gc` that `node --expose-gc` defines; undefined when node was started without the flag. */
export function exposedGc(): CollectGarbage | undefined {
  const gc = globalThis.gc;
  if (gc === undefined) return undefined;
  return async (kind) => {
    if (kind === 'quiet') {
      // V8's last-resort collection repeats major GCs until nothing more is freed, then gives the emptied heap pages
      // back: the memory reducer's job, which is off (node-flags.ts). After a fill of 1 KB values, RSS 10 s later was
      // 1.00x and 1.04x the budget over idle with it, 1.23x with two regular major GCs (docs/performance.md). It once
      // seemed to slow hits for good; that was nextTick's hidden classes, which tick-maps.ts keeps.
      await gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
      return;
    }
    // Two: after one, about 50 MiB of dead ArrayBuffers besides the value slabs of the time (the source's answers) were still
    // counted in external memory and RSS; the second GC freed them (bench/cases/memory.ts, external 307 -> 258 MiB).
    await gc({ type: 'major', execution: 'async' });
    await gc({ type: 'major', execution: 'async' });
  };
}

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0;
}

export class IdleGc {
  /** Collections asked for so far. */
  collections = 0;
  private readonly options: IdleGcOptions;
  private readonly collect: CollectGarbage | undefined;
  private readonly policy: IdleGcPolicy;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: IdleGcOptions) {
    this.options = options;
    this.collect = options.collect ?? exposedGc();
    this.policy = options.policy ?? new IdleGcPolicy();
  }

  /** Whether collections can happen (a collect function was given or node exposes gc). */
  get available(): boolean {
    return this.collect !== undefined;
  }

  /** Starts the timer (unref'd: it never keeps the process alive). Idempotent; does nothing when not available. */
  start(): void {
    if (this.timer !== undefined || this.collect === undefined) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs ?? 500).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const stats = this.options.ledger.stats();
    // A collection still marking counts as a tick with nothing to decide.
    if (this.running) return;
    const kind = this.policy.tick({ ...stats, oldSpaceBytes: oldSpaceUsed() });
    if (kind === undefined) return;
    this.running = true;
    this.collections++;
    const started = performance.now();
    this.collect!(kind).then(
      () => {
        this.running = false;
        const ms = Math.round(performance.now() - started);
        this.options.logger.info(
          { kind, droppedBytes: stats.droppedBytes, writtenBytes: stats.writtenBytes, ms },
          'full GC to free dropped store segments, the buffers values arrived in and old request garbage',
        );
      },
      (err: unknown) => {
        this.running = false;
        this.options.logger.warn({ err }, 'idle full GC failed');
      },
    );
  }
}
