// micro.ts measures the pure hot-path pieces in-process: HashRing.ownerOf, and the compact store's get and set.
import { CompactStore } from '../../src/engine/store/compact-store.js';
import { HashRing } from '../../src/engine/ring.js';
import { median } from '../lib/stats.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

const KEYS = Array.from({ length: 4096 }, (_, i) => `bench-key-${i}`);
const VALUE = new Uint8Array(100).fill(0x61);

/** Calls `op(i)` in batches until `seconds` pass; returns operations per second. */
function opsPerSecond(seconds: number, op: (i: number) => void): number {
  const batch = 10_000;
  const start = performance.now();
  const end = start + seconds * 1000;
  let done = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) op(done + i);
    done += batch;
    now = performance.now();
  }
  return done / ((now - start) / 1000);
}

interface Measured {
  opsPerSec: number;
  runs: number[];
}

/**
 * Warms every op up first (so the shared call site in opsPerSecond treats them
 * alike), then runs them in turn `reps` times and takes each one's median.
 */
function measureAll<K extends string>(reps: number, seconds: number, ops: Record<K, (i: number) => void>): Record<K, Measured> {
  const names = Object.keys(ops) as K[];
  for (const name of names) opsPerSecond(Math.min(0.2, seconds), ops[name]);
  const runs = {} as Record<K, number[]>;
  for (const name of names) runs[name] = [];
  for (let r = 0; r < reps; r++) for (const name of names) runs[name].push(opsPerSecond(seconds, ops[name]));
  const out = {} as Record<K, Measured>;
  for (const name of names) out[name] = { opsPerSec: median(runs[name]), runs: runs[name] };
  return out;
}

// Keeps results observable so the JIT cannot drop the calls.
let sink = 0;

export function ringRows(reps: number, seconds: number): Row[] {
  const ringOf = (peers: number): HashRing => new HashRing(Array.from({ length: peers }, (_, i) => `http://10.0.0.${i}:8000`));
  const small = ringOf(3);
  const large = ringOf(100);
  const measured = measureAll(reps, seconds, {
    p3: (i: number) => {
      sink += small.ownerOf(KEYS[i & 4095]!)?.length ?? 0;
    },
    p100: (i: number) => {
      sink += large.ownerOf(KEYS[i & 4095]!)?.length ?? 0;
    },
  });
  const rows: Row[] = [];
  for (const peers of [3, 100] as const) {
    const { opsPerSec, runs } = peers === 3 ? measured.p3 : measured.p100;
    rows.push({
      case: `micro-ring ownerOf (${peers} peers x 50)`,
      rps: opsPerSec,
      ratio: `${(1e9 / opsPerSec).toFixed(0)} ns/op`,
      goal: 'info (ops/s)',
      verdict: 'info',
      detail: { peers, replicas: 50, opsPerSec, runs },
    });
  }
  return rows;
}

/** CompactStore get (hits) and set (evicting), in ns/op; lru-cache, which it replaced, is no dependency any more (docs/compact-store.md has the last comparison). */
export function storeRows(reps: number, seconds: number): Row[] {
  // get: every key present (hits), 4096 entries in a budget that holds them all.
  const hits = new CompactStore(64 << 20);
  for (const key of KEYS) hits.set(key, VALUE);
  // set: distinct keys into a budget of about 1000 entries, so almost every set evicts.
  const setKeys = Array.from({ length: 1 << 16 }, (_, i) => `set-key-${i}`);
  const evicting = new CompactStore(1000 * (100 + 12 + 56));
  const m = measureAll(reps, seconds, {
    get: (i: number) => {
      sink += hits.get(KEYS[i & 4095]!)?.byteLength ?? 0;
    },
    set: (i: number) => {
      evicting.set(setKeys[i & 0xffff]!, VALUE);
    },
  });
  const row = (op: string, a: Measured): Row => ({
    case: `micro-store ${op}`,
    rps: a.opsPerSec,
    ratio: `${(1e9 / a.opsPerSec).toFixed(0)} ns/op`,
    goal: 'info (ops/s)',
    verdict: 'info',
    detail: { op, impl: 'CompactStore', opsPerSec: a.opsPerSec, runs: a.runs },
  });
  if (sink === -1) console.log(sink);
  return [row('get (hit)', m.get), row('set (evicting)', m.set)];
}

/** Seconds per measured run of a micro benchmark. */
const microSeconds = (quick: boolean): number => (quick ? 0.2 : 0.5);

export const microRing: SoloCase = { kind: 'solo', name: 'micro-ring', needsServer: false, rows: (config) => ringRows(config.reps, microSeconds(config.quick)) };
export const microStore: SoloCase = { kind: 'solo', name: 'micro-store', needsServer: false, rows: (config) => storeRows(config.reps, microSeconds(config.quick)) };
