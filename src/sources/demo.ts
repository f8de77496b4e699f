// demo.ts is the seed's "slow database": three scores behind a configurable delay.
import { NotFoundError } from '../errors.js';
import type { Getter } from '../engine/group.js';

export const DEMO_SCORES: Readonly<Record<string, string>> = Object.freeze({ Tom: '630', Jack: '589', Sam: '567' });

export interface DemoSourceOptions {
  /** Simulated lookup time. Default 50 ms. */
  latencyMs?: number;
  /** Told of every lookup, so a reader can watch the cache spare the database. */
  onLookup?: (key: string) => void;
  /** Default DEMO_SCORES. */
  data?: Readonly<Record<string, string>>;
}

export function demoSource(options: DemoSourceOptions = {}): Getter {
  const latencyMs = options.latencyMs ?? 50;
  const data = options.data ?? DEMO_SCORES;
  return async (key, signal) => {
    options.onLookup?.(key);
    if (latencyMs > 0) await sleep(latencyMs, signal);
    const value = Object.hasOwn(data, key) ? data[key] : undefined;
    if (value === undefined) throw new NotFoundError(`${key} not exist`);
    return value;
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
