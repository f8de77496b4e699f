// memory-shapes.ts floods one pod with misses of one value size after another and compares its RSS growth with the byte budget, beside Go groupcache's for the same flood.
import { Pool } from 'undici';
import { startCluster, type Cluster } from '../lib/cluster.js';
import { goReference, startGoCluster } from '../lib/groupcache.js';
import { scrape, sum } from '../lib/metrics.js';
import { startOrigin } from '../lib/origin.js';
import { memoryOf } from '../lib/proc-stat.js';
import { sleep } from '../../harness/wait.js';
import { ENTRY_OVERHEAD_BYTES } from '../../src/engine/store/compact-store.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

const MiB = 1024 * 1024;
const KEY_BYTES = 12;
/** The issue's shapes: a few bytes (IDs, flags, counters) to whole blobs. */
const VALUE_SIZES = [8, 100, 1024, 64 * 1024, MiB, 16 * MiB];
/** RSS growth over idle may be at most this times the budget (issue 26). */
const GOAL_FACTOR = 1.5;

export interface ShapeOptions {
  /** Budget for values up to 1 MiB (larger ones get room for at least a few entries). */
  budgetBytes: number;
  /** Budget for 16 MiB values. */
  largeBudgetBytes: number;
  /** Value sizes to run; default VALUE_SIZES. */
  shapes?: readonly number[];
  /** Stop once the cache has taken this many budgets of misses. */
  turnovers: number;
  /** And after this long per size, whatever the turnover. */
  deadlineS: number;
  connections: number;
  serverCpus: string | undefined;
  withGo: boolean;
}

/** The budget for one value size: the default (the large one from 16 MiB), or room for 4 entries of it, in whole MiB. */
function budgetFor(valueBytes: number, options: ShapeOptions): number {
  const budget = valueBytes >= 16 * MiB ? options.largeBudgetBytes : options.budgetBytes;
  return Math.max(budget, Math.ceil((4 * (valueBytes + KEY_BYTES + ENTRY_OVERHEAD_BYTES)) / MiB) * MiB);
}

/** Where a pod's memory is, from its /metrics: RSS, V8's heap, external memory, and the store segments within it. */
interface MemoryReading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  segmentsHeld: number;
  segmentsDropped: number;
}

async function readMemory(pod: Cluster['pods'][number]): Promise<MemoryReading | undefined> {
  try {
    const m = await scrape(`${pod.http}/metrics`);
    return {
      rss: memoryOf(pod.child.pid)!.rss,
      heapUsed: sum(m, 'nodejs_heap_size_used_bytes'),
      heapTotal: sum(m, 'nodejs_heap_size_total_bytes'),
      external: sum(m, 'nodejs_external_memory_bytes'),
      segmentsHeld: sum(m, 'geecache_segment_bytes', { state: 'held' }),
      segmentsDropped: sum(m, 'geecache_segment_bytes', { state: 'dropped' }),
    };
  } catch {
    return undefined; // Go groupcache has no such metrics
  }
}

/** "heap used +a (total +b), external +c (segments +d, of them dropped +e), other +f" in MiB, from `before` to `after`. */
function breakdown(before: MemoryReading | undefined, after: MemoryReading | undefined): string {
  if (!before || !after) return '';
  const d = (k: keyof MemoryReading) => ((after[k] - before[k]) / MiB).toFixed(1);
  const other = (after.rss - before.rss - (after.heapTotal - before.heapTotal) - (after.external - before.external)) / MiB;
  return ` [heap used ${d('heapUsed')} (total ${d('heapTotal')}), external ${d('external')} (segments ${d('segmentsHeld')}, dropped ${d('segmentsDropped')}), rest ${other.toFixed(1)} MiB]`;
}

interface Flood {
  requests: number;
  failures: number;
  seconds: number;
  /** RSS once ready, before any load. */
  coldRss: number;
  /** RSS after the warm-up: the base the growth is counted from. */
  idleRss: number;
  rss: number;
  idle: MemoryReading | undefined;
  after: MemoryReading | undefined;
}

/**
 * Warms the pod with hits on one key (so V8's heap has its working size before "idle" is read), then
 * asks for new keys until `turnovers` budgets' worth of entries or the deadline, then reads RSS after
 * a settle of 3 s: what the pod holds once the flood is over.
 */
async function flood(pod: Cluster['pods'][number], valueBytes: number, budget: number, options: ShapeOptions, warmGroup: string | undefined): Promise<Flood> {
  const pool = new Pool(pod.http, { connections: options.connections, pipelining: 1 });
  const get = async (name: string, group?: string): Promise<boolean> => {
    const res = await pool.request({ path: group ? pod.apiPath(name, group) : pod.apiPath(name), method: 'GET' });
    const body = await res.body.arrayBuffer();
    return res.statusCode === 200 && (group !== undefined || body.byteLength === valueBytes);
  };
  try {
    const coldRss = memoryOf(pod.child.pid)!.rss;
    // Warm: 3 s of misses of tiny values into a 1 MiB group (Go: 200 hits), so V8's young generation and code
    // exist before "idle" is read; tiny, so the warm-up leaves no garbage of the shape's size behind.
    const warmEnd = Date.now() + 3000;
    let w = 0;
    const warmer = async (): Promise<void> => {
      while (Date.now() < warmEnd) await get(`w-${w++}`, warmGroup).catch(() => false);
    };
    if (warmGroup !== undefined) await Promise.all(Array.from({ length: options.connections }, warmer));
    else for (let i = 0; i < 200; i++) await get('warm-0');
    await sleep(2000);
    const idle = await readMemory(pod);
    const idleRss = memoryOf(pod.child.pid)!.rss;
    const target = Math.ceil((options.turnovers * budget) / (valueBytes + KEY_BYTES + ENTRY_OVERHEAD_BYTES));
    const deadline = Date.now() + options.deadlineS * 1000;
    let next = 0;
    let failures = 0;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (next < target && Date.now() < deadline) {
        const key = `s-${String(next++).padStart(KEY_BYTES - 2, '0')}`;
        if (!(await get(key).catch(() => false))) failures++;
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
    const seconds = (performance.now() - start) / 1000;
    await sleep(3000);
    const after = await readMemory(pod);
    return { requests: next, failures, seconds, coldRss, idleRss, rss: memoryOf(pod.child.pid)!.rss, idle, after };
  } finally {
    await pool.close();
  }
}

const size = (bytes: number): string => (bytes >= MiB ? `${bytes / MiB} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`);

export async function memoryShapeRows(options: ShapeOptions, log: (message: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const go = options.withGo ? goReference() : { reason: 'not asked' };
  if ('reason' in go) log(`memory-shapes: no Go reference (${go.reason})`);
  for (const valueBytes of options.shapes ?? VALUE_SIZES) {
    const budget = budgetFor(valueBytes, options);
    const origin = await startOrigin({ valueBytes });
    const tinyOrigin = await startOrigin({ valueBytes: 8 });
    try {
      const ours = await startCluster({ name: 'shapes', pods: 1, groups: `shape:${budget / MiB}MiB:${origin.url},warm:1MiB:${tinyOrigin.url}`, cpus: options.serverCpus });
      let f: Flood;
      let items: number;
      try {
        f = await flood(ours.pods[0]!, valueBytes, budget, options, 'warm');
        const samples = await scrape(`${ours.pods[0]!.http}/metrics`);
        items = sum(samples, 'geecache_cache_items', { group: 'shape' });
      } finally {
        await ours.close();
      }
      const growth = f.rss - f.idleRss;
      const turnover = (f.requests * (valueBytes + KEY_BYTES + ENTRY_OVERHEAD_BYTES)) / budget;
      let goFigure = '';
      let goDetail: Record<string, number> | undefined;
      if ('binary' in go) {
        const theirs = await startGoCluster({ name: 'shapes-go', binary: go.binary, pods: 1, origin: origin.url, cacheBytes: () => budget, cpus: options.serverCpus });
        try {
          const g = await flood(theirs.pods[0]!, valueBytes, budget, options, undefined);
          goFigure = `; Go groupcache +${(( g.rss - g.idleRss) / MiB).toFixed(0)} MiB (${((g.rss - g.idleRss) / budget).toFixed(2)}x) after ${g.requests} misses`;
          goDetail = { requests: g.requests, idleRss: g.idleRss, rss: g.rss, growthOverBudget: (g.rss - g.idleRss) / budget };
        } finally {
          await theirs.close();
        }
      }
      const ratio = growth / budget;
      log(
        `memory-shapes ${size(valueBytes)}: budget ${budget / MiB} MiB, ${f.requests} misses in ${f.seconds.toFixed(1)} s (${turnover.toFixed(1)} budgets, ${f.failures} failures), ` +
          `${items} entries held (${(budget / Math.max(items, 1)).toFixed(0)} budget bytes each), RSS ${(f.coldRss / MiB).toFixed(0)} cold, ${(f.idleRss / MiB).toFixed(0)} warm -> ${(f.rss / MiB).toFixed(0)} MiB: +${(growth / MiB).toFixed(1)} MiB = ${ratio.toFixed(2)}x the budget${breakdown(f.idle, f.after)}${goFigure}`,
      );
      rows.push({
        case: `memory-shapes ${size(valueBytes)}`,
        ratio: `${ratio.toFixed(2)}x budget, ${items} entries${goDetail ? `, Go ${goDetail.growthOverBudget!.toFixed(2)}x` : ''}`,
        goal: `RSS growth <= ${GOAL_FACTOR}x budget`,
        verdict: f.failures === 0 && turnover >= 1 && ratio <= GOAL_FACTOR ? 'PASS' : 'FAIL',
        detail: { valueBytes, budget, items, requests: f.requests, turnover, coldRss: f.coldRss, idleRss: f.idleRss, rss: f.rss, growthOverBudget: ratio, growthPerEntry: growth / Math.max(items, 1), go: goDetail },
      });
    } finally {
      await origin.close();
      await tinyOrigin.close();
    }
  }
  return rows;
}

export const memoryShapes: SoloCase = {
  kind: 'solo',
  name: 'memory-shapes',
  needsServer: true,
  rows: (config, log) =>
    memoryShapeRows(
      {
        // Budgets a pod is given in practice: at 8 MiB, what any Node pod grows by under a miss flood hides the store (docs/performance.md).
        budgetBytes: config.quick ? 16 * MiB : 64 * MiB,
        largeBudgetBytes: config.quick ? 128 * MiB : 256 * MiB,
        shapes: config.shapes,
        turnovers: config.quick ? 1.25 : 2,
        deadlineS: config.quick ? 30 : 90,
        connections: config.connections,
        serverCpus: config.serverCpus,
        withGo: true,
      },
      log,
    ),
};
