// memory-bound.ts: distinct values through one pod, 1 KB ones into a 32 MiB budget and 8-byte ones into 16 MiB; its RSS, read from /proc all along, must stay within 1.5× the budget plus its RSS while serving tiny misses.
import { forceGc } from '../../lib/inspector-gc.js';
import { ENTRY_OVERHEAD_BYTES } from '../../../src/engine/store/compact-store.js';
import { sum } from '../../lib/metrics.js';
import { memoryOf } from '../../lib/proc-stat.js';
import { freePort } from '../../../harness/ports.js';
import { sleep } from '../../../harness/wait.js';
import { apiPath, closedLoop, expectValue, latency, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { startRing } from '../pods.js';
import { atLeast, atMost, cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const MiB = 2 ** 20;
const CLIENTS = 16;
/** As bench/memory.ts reads it in the full bench: 10 s after the fill, no forced GC. */
const SETTLE_MS = 10_000;
/**
 * Misses of tiny values into a 1 MiB group before the base is read, as bench/cases/memory-shapes.ts does:
 * a pod that has served requests holds V8's whole young generation and code that a pod fresh from start
 * does not, whatever its budget (the chart's memory.baseMiB is that RSS). Counted from a cold pod, a
 * 16 MiB budget's limit would be spent on them. A count, not a time: after 3 s of misses (11,000 to
 * 27,000 of them, as busy as the host was) the base moved by 45 MiB. The base is the highest RSS
 * while serving them or in the 2 s after.
 */
const WARM_MISSES = 30_000;
/** The warm-up stops after this long even if it has not sent them all. */
const WARM_MAX_MS = 15_000;

interface Shape {
  id: string;
  title: string;
  budgetMiB: number;
  valueBytes: number;
  keys: number;
}

/** How far `rss` stands above the base, in budgets; or how far below it (a pod may settle under its warm-up peak). */
function overBase(rss: number, base: number, budgetMiB: number): string {
  if (rss < base) return `${fmt((base - rss) / MiB)} MiB below the base`;
  return `${((rss - base) / (budgetMiB * MiB)).toFixed(2)}× budget + base`;
}

/** The scenario for one shape of values: `keys` distinct ones through the API. */
function memoryScenario({ id, title, budgetMiB: BUDGET_MIB, valueBytes: VALUE_BYTES, keys: KEYS }: Shape): Scenario {
  return {
  id,
  title,
  injected: `one pod, ${BUDGET_MIB} MiB budget, ${fmt(KEYS)} distinct ${VALUE_BYTES} B values through its API by ${CLIENTS} clients (${((KEYS * (9 + VALUE_BYTES + ENTRY_OVERHEAD_BYTES)) / (BUDGET_MIB * MiB)).toFixed(1)}× the budget, 9-byte keys)`,
  async run(log) {
    const origin = await startFaultyOrigin({ valueBytes: VALUE_BYTES });
    const warmOrigin = await startFaultyOrigin({ valueBytes: 8 });
    // The inspector (loopback only) lets the run force a full GC after the readings, to tell live memory from garbage.
    const inspectPort = await freePort();
    const ring = await startRing({ name: id, pods: 1, groups: `mem:${BUDGET_MIB}MiB:${origin.url},warm:1MiB:${warmOrigin.url}`, nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
    try {
      const pod = ring.pods[0]!;
      await sleep(1000);
      const cold = pod.rss();
      let w = 0;
      let serving = cold;
      const warmSampler = setInterval(() => (serving = Math.max(serving, pod.rss() || 0)), 100);
      const warm = await closedLoop({
        clients: CLIENTS,
        durationMs: WARM_MAX_MS,
        maxRequests: WARM_MISSES,
        pick: () => pod,
        next: () => {
          const key = `w-${w++}`;
          return { key, path: apiPath(key, 'warm'), check: expectValue(key, 8) };
        },
      });
      clearInterval(warmSampler);
      await sleep(2000);
      const base = Math.max(serving, pod.rss());
      const limit = 1.5 * BUDGET_MIB * MiB + base;
      let peak = base;
      // Where the RSS is at each new peak (diagnostic): V8's heap and the memory outside it, from /metrics.
      // One scrape at a time: while RSS climbs a new peak comes every 100 ms, and the scrapes would add to the load measured.
      let atPeak = '';
      let scraping = false;
      const sampler = setInterval(() => {
        const rss = pod.rss() || 0;
        if (rss <= peak) return;
        peak = rss;
        if (scraping) return;
        scraping = true;
        pod
          .samples()
          .then(
            (metrics) => {
              atPeak = `V8 heap ${fmt(sum(metrics, 'nodejs_heap_size_used_bytes') / MiB)} MiB used of ${fmt(sum(metrics, 'nodejs_heap_size_total_bytes') / MiB)}, external ${fmt(sum(metrics, 'nodejs_external_memory_bytes') / MiB)} MiB`;
            },
            () => undefined,
          )
          .finally(() => (scraping = false));
      }, 100);
      let next = 0;
      const started = performance.now();
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: 120_000,
        maxRequests: KEYS,
        pick: () => pod,
        next: () => {
          const key = `m-${String(next++).padStart(7, '0')}`;
          return { key, path: apiPath(key), check: expectValue(key, VALUE_BYTES) };
        },
      });
      const fillS = (performance.now() - started) / 1000;
      log(`${samples.length} requests in ${fillS.toFixed(1)} s; peak RSS so far ${fmt(peak / MiB)} MiB`);
      clearInterval(sampler);
      const settling: number[] = [];
      for (let s = 0; s < SETTLE_MS / 1000; s++) {
        await sleep(1000);
        settling.push(pod.rss());
      }
      const settled = pod.rss();
      const hwm = memoryOf(pod.pid)?.peakRss ?? NaN;
      const metrics = await pod.samples();
      const cacheBytes = sum(metrics, 'geecache_cache_bytes', { group: 'mem' });
      const evictions = sum(metrics, 'geecache_cache_evictions_total', { group: 'mem' });
      const heapTotal = sum(metrics, 'nodejs_heap_size_total_bytes');
      const external = sum(metrics, 'nodejs_external_memory_bytes');
      const heapUsed = sum(metrics, 'nodejs_heap_size_used_bytes');
      const slabs = sum(metrics, 'geecache_segment_bytes', { state: 'held' });
      const emptySlabs = sum(metrics, 'geecache_segment_bytes', { state: 'dropped' });
      // Diagnostic only: the checks are on the readings above.
      let afterGc = NaN;
      let heapUsedAfterGc = NaN;
      try {
        await forceGc(inspectPort);
        await sleep(1000);
        afterGc = pod.rss();
        heapUsedAfterGc = sum(await pod.samples(), 'nodejs_heap_size_used_bytes');
      } catch (err) {
        log(`forced GC failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      const summary = summarize(samples);
      const mib = (n: number): string => `${fmt(n / MiB)} MiB`;
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, latency(samples)),
        notes: [
          `RSS ${mib(cold)} cold, ${mib(base)} at most while serving ${fmt(warm.length)} misses of 8 B values and 2 s after (the base); limit 1.5 × ${BUDGET_MIB} MiB + base = ${mib(limit)}`,
          `peak RSS during the fill ${mib(peak)} (sampled every 100 ms; VmHWM ${mib(hwm)}; then ${atPeak || 'no reading'}), ${SETTLE_MS / 1000} s after it ${mib(settled)} = ${overBase(settled, base, BUDGET_MIB)} (each second after the fill: ${settling.map((n) => fmt(n / MiB)).join(', ')} MiB)`,
          `then V8 heap ${mib(heapUsed)} used of ${mib(heapTotal)}, external ${mib(external)} (store segments ${mib(slabs)}, ${mib(emptySlabs)} of them dropped); after a forced full GC (diagnostic) RSS ${mib(afterGc)}, heap used ${mib(heapUsedAfterGc)}`,
          `cache ${mib(cacheBytes)}, ${fmt(evictions)} evictions; fill ${fillS.toFixed(1)} s (${fmt(samples.length / fillS)} req/s)`,
        ],
        checks: [
          ...cleanLoad(summary),
          equal('requests', summary.requests, KEYS),
          equal('warm-up misses not answered with their value', warm.filter((sample) => sample.outcome !== 'ok').length, 0),
          atMost('peak RSS during the fill', Math.round(peak / MiB), Math.round(limit / MiB), ' MiB'),
          atMost(`RSS ${SETTLE_MS / 1000} s after the fill`, Math.round(settled / MiB), Math.round(limit / MiB), ' MiB'),
          atLeast('cache filled to 95% of the budget', Math.round(cacheBytes / MiB), Math.floor(0.95 * BUDGET_MIB), ' MiB'),
          ...(await podsHealthy(ring.pods)),
          logs.check,
        ],
        evidence: [...logs.evidence, ...summary.examples],
      };
    } finally {
      await ring.close();
      await origin.close();
      await warmOrigin.close();
    }
  },
  };
}

export const memoryBound: Scenario = memoryScenario({ id: 'memory', title: '9. memory bound', budgetMiB: 32, valueBytes: 1024, keys: 100_000 });

/** Ids, flags, counters (issue 26): 76 budget bytes an entry, so 1.5 budgets is about 330,000 misses. */
export const memoryBoundTiny: Scenario = memoryScenario({ id: 'memory-tiny', title: '10. memory bound, 8-byte values', budgetMiB: 16, valueBytes: 8, keys: 330_000 });
