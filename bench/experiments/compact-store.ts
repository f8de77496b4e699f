// compact-store.ts measures what the compact store (src/engine/store/) saves over ByteLru: memory and full-GC pauses under many tiny entries, and the cost of a hit.
//
// Usage: npm run bench:build && node dist/bench/experiments/compact-store.js [--entries 1000000] [--gc-entries 1250000] [--rounds 2]
//
// Each measurement runs in a fresh child process (node --expose-gc), alternating ByteLru and the
// compact store for --rounds rounds; entries have 12-byte keys and 8-byte values. Per child: live
// heap + external bytes per entry after --entries sets (global.gc() before each reading); the pause of
// a full collection (global.gc(), timed, median and max of 7) after topping up to --gc-entries; and
// get() hits over the first 100,000 keys in ns/op. An "empty" child times the full GC with nothing
// cached. Before that, in this process, the store's typed-array bytes per entry averaged over sizes
// from 1,000 to 2,000,000 entries: the measurement behind ENTRY_OVERHEAD_BYTES.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ByteLru } from '../../src/engine/lru.js';
import { ByteView } from '../../src/engine/byteview.js';
import { CompactStore } from '../../src/engine/store/compact-store.js';
import { median } from '../lib/stats.js';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    entries: { type: 'string', default: '1000000' },
    'gc-entries': { type: 'string', default: '1250000' },
    rounds: { type: 'string', default: '2' },
  },
});
const entries = Number(values.entries);
const gcEntries = Number(values['gc-entries']);
const rounds = Number(values.rounds);
if (!Number.isInteger(entries) || entries < 1000 || !Number.isInteger(gcEntries) || gcEntries < entries || !Number.isInteger(rounds) || rounds < 1) {
  throw new TypeError('--entries must be an integer >= 1000, --gc-entries >= --entries, --rounds a positive integer');
}

/** 12 bytes: "key-" and eight digits. */
const keyOf = (i: number) => `key-${String(i).padStart(8, '0')}`;
const VALUE = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const BUDGET = 2 ** 40;

interface Cache {
  set(i: number): void;
  get(key: string): ByteView | undefined;
}

function cacheOf(kind: string): Cache | undefined {
  if (kind === 'lru') {
    const lru = new ByteLru(BUDGET);
    return { set: (i) => void lru.set(keyOf(i), ByteView.copyOf(VALUE)), get: (key) => lru.get(key) };
  }
  if (kind === 'store') {
    const store = new CompactStore(BUDGET);
    return { set: (i) => void store.set(keyOf(i), VALUE), get: (key) => store.get(key) };
  }
  return undefined;
}

interface ChildResult {
  kind: string;
  bytesPerEntry: number;
  gcMedianMs: number;
  gcMaxMs: number;
  getNs: number;
}

function child(kind: string): ChildResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const before = used();
  const cache = cacheOf(kind);
  let bytesPerEntry = 0;
  if (cache) {
    for (let i = 0; i < entries; i++) cache.set(i);
    bytesPerEntry = (used() - before) / entries;
    for (let i = entries; i < gcEntries; i++) cache.set(i);
  }
  const pauses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    gc();
    pauses.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  let getNs = 0;
  if (cache) {
    const keys = Array.from({ length: 100_000 }, (_, i) => keyOf((i * 7919) % entries));
    let sum = 0;
    for (const key of keys) sum += cache.get(key)!.byteLength; // warm-up
    const passes = 20;
    const start = process.hrtime.bigint();
    for (let p = 0; p < passes; p++) for (const key of keys) sum += cache.get(key)!.byteLength;
    getNs = Number(process.hrtime.bigint() - start) / (passes * keys.length);
    if (sum !== (passes + 1) * keys.length * VALUE.length) throw new Error('a hit went missing');
  }
  return { kind, bytesPerEntry, gcMedianMs: median(pauses), gcMaxMs: Math.max(...pauses), getNs };
}

/** Typed-array bytes per entry of stores of 1,000 to 2,000,000 entries, log-uniformly spaced: the average and the worst. */
function overheadPerEntry(): { average: number; worst: number } {
  const perEntry: number[] = [];
  const store = new CompactStore(BUDGET);
  let filled = 0;
  for (let step = 0; step <= 60; step++) {
    const n = Math.round(1000 * 2000 ** (step / 60));
    for (; filled < n; filled++) store.set(keyOf(filled), VALUE);
    perEntry.push(store.footprint().tableBytes / n);
  }
  return { average: perEntry.reduce((a, b) => a + b, 0) / perEntry.length, worst: Math.max(...perEntry) };
}

if (values.child !== undefined) {
  process.stdout.write(JSON.stringify(child(values.child)));
} else {
  const overhead = overheadPerEntry();
  console.log(`store typed-array bytes per entry, 1k-2M entries: average ${overhead.average.toFixed(1)}, worst ${overhead.worst.toFixed(1)}`);
  const script = fileURLToPath(import.meta.url);
  const results: ChildResult[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? ['empty', 'lru', 'store'] : ['store', 'lru', 'empty']) {
      const args = ['--expose-gc', script, '--child', kind, '--entries', String(entries), '--gc-entries', String(gcEntries)];
      const result = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as ChildResult;
      results.push(result);
      console.log(
        `round ${round + 1} ${kind.padEnd(5)} bytes/entry ${result.bytesPerEntry.toFixed(1).padStart(6)}  full GC median ${result.gcMedianMs.toFixed(2)} ms max ${result.gcMaxMs.toFixed(2)} ms  get ${result.getNs.toFixed(0)} ns/op`,
      );
    }
  }
  const med = (kind: string, field: keyof Omit<ChildResult, 'kind'>) => median(results.filter((r) => r.kind === kind).map((r) => r[field]));
  console.log(
    `store/lru: bytes per entry ${(med('store', 'bytesPerEntry') / med('lru', 'bytesPerEntry')).toFixed(3)}, ` +
      `full GC ${(med('store', 'gcMedianMs') / med('lru', 'gcMedianMs')).toFixed(3)} (empty ${med('empty', 'gcMedianMs').toFixed(2)} ms), ` +
      `get ${(med('store', 'getNs') / med('lru', 'getNs')).toFixed(3)}`,
  );
}
