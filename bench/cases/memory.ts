// memory.ts fills one pod's byte budget with 1 KB values through the API and compares its RSS with the budget.
import { Pool } from 'undici';
import { startCluster } from '../lib/cluster.js';
import { forceGc } from '../lib/inspector-gc.js';
import { scrape, sum } from '../lib/metrics.js';
import { startOrigin } from '../lib/origin.js';
import { memoryOf } from '../lib/proc-stat.js';
import { freePort } from '../../harness/ports.js';
import { sleep } from '../../harness/wait.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

const VALUE_BYTES = 1024;
const MiB = 1024 * 1024;

export interface MemoryOptions {
  budgetBytes: number;
  serverCpus: string | undefined;
  /** Stop filling after this long even if not done (the row then fails). */
  deadlineS: number;
  /** Concurrent fill requests. */
  connections: number;
  /** Seconds to wait after the fill before reading RSS (V8's idle-time GC may shrink the heap meanwhile). */
  settleS: number;
}

export async function memoryRows(options: MemoryOptions, log: (message: string) => void): Promise<Row[]> {
  const budgetMiB = Math.round(options.budgetBytes / MiB);
  const budget = budgetMiB * MiB;
  const origin = await startOrigin({ valueBytes: VALUE_BYTES });
  // The inspector (loopback only) lets us force a full GC after the measurement, to split live data from garbage.
  const inspectPort = await freePort();
  const cluster = await startCluster({
    name: 'memory',
    pods: 1,
    groups: `mem:${budgetMiB}MiB:${origin.url}`,
    cpus: options.serverCpus,
    nodeArgs: () => [`--inspect=127.0.0.1:${inspectPort}`],
  });
  const pod = cluster.pods[0]!;
  const pool = new Pool(pod.http, { connections: options.connections, pipelining: 1 });
  try {
    await sleep(1000);
    const idle = memoryOf(pod.child.pid);
    if (!idle) throw new Error(`cannot read /proc/${pod.child.pid}/status`);

    // 20% more distinct keys than fit, so the budget is full and eviction has run.
    const keyBytes = 'm-000000'.length;
    const target = Math.ceil((1.2 * budget) / (VALUE_BYTES + keyBytes));
    let next = 0;
    let failures = 0;
    let firstFailure = '';
    const start = performance.now();
    const deadline = Date.now() + options.deadlineS * 1000;
    const worker = async (): Promise<void> => {
      while (next < target && Date.now() < deadline) {
        const key = `m-${String(next++).padStart(6, '0')}`;
        try {
          const res = await pool.request({ path: `/api?key=${key}&group=mem`, method: 'GET' });
          const body = await res.body.arrayBuffer();
          if (res.statusCode !== 200 || body.byteLength !== VALUE_BYTES) {
            failures++;
            firstFailure ||= `HTTP ${res.statusCode}, ${body.byteLength} bytes`;
          }
        } catch (err) {
          failures++;
          firstFailure ||= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
    const fillS = (performance.now() - start) / 1000;
    log(`memory: ${next} requests in ${fillS.toFixed(1)} s (${Math.round(next / fillS)}/s), ${failures} failures`);

    // No forced GC (the pod has no hook for one): this is what the pod really holds once idle.
    const rssAfterFill: number[] = [];
    for (let s = 0; s < options.settleS; s++) {
      await sleep(1000);
      rssAfterFill.push(memoryOf(pod.child.pid)?.rss ?? NaN);
    }
    const filled = memoryOf(pod.child.pid);
    if (!filled) throw new Error(`cannot read /proc/${pod.child.pid}/status`);
    const samples = await scrape(`${pod.http}/metrics`);
    const cacheBytes = sum(samples, 'geecache_cache_bytes', { group: 'mem' });
    const items = sum(samples, 'geecache_cache_items', { group: 'mem' });
    const evictions = sum(samples, 'geecache_cache_evictions_total', { group: 'mem' });
    // prom-client's default process metrics, when the pod exports them: where the RSS went.
    const heapUsed = sum(samples, 'nodejs_heap_size_used_bytes');
    const heapTotal = sum(samples, 'nodejs_heap_size_total_bytes');
    const external = sum(samples, 'nodejs_external_memory_bytes');
    const slabHeld = sum(samples, 'geecache_segment_bytes', { state: 'held' });

    // Diagnostic only (the goal is judged on the RSS above): what remains after a forced full GC.
    let afterGc: { rss: number; heapUsed: number; external: number } | undefined;
    try {
      await forceGc(inspectPort);
      await sleep(1000);
      const gcSamples = await scrape(`${pod.http}/metrics`);
      afterGc = {
        rss: memoryOf(pod.child.pid)?.rss ?? NaN,
        heapUsed: sum(gcSamples, 'nodejs_heap_size_used_bytes'),
        external: sum(gcSamples, 'nodejs_external_memory_bytes'),
      };
    } catch (err) {
      log(`memory: forced GC failed: ${err instanceof Error ? err.message : String(err)}`);
    }

    const limit = 1.5 * budget + idle.rss;
    const complete = next >= target && failures === 0;
    const full = cacheBytes >= 0.95 * budget;
    const pass = complete && full && filled.rss <= limit;
    const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
    return [
      {
        case: `memory (${budgetMiB} MiB of 1 KB values)`,
        ratio: `RSS ${mib(filled.rss)} = ${((filled.rss - idle.rss) / budget).toFixed(2)}x budget + idle`,
        goal: `RSS <= 1.5x budget + idle = ${mib(limit)}`,
        verdict: pass ? 'PASS' : 'FAIL',
        note:
          `idle RSS ${mib(idle.rss)}, peak RSS ${mib(filled.peakRss)}, RSS read ${options.settleS} s after the fill, cache ${mib(cacheBytes)} in ${items} entries ` +
          `(${evictions} evictions), V8 heap used ${mib(heapUsed)} of ${mib(heapTotal)}, external ${mib(external)} (store segments ${mib(slabHeld)}), ` +
          `fill ${next} requests in ${fillS.toFixed(1)} s` +
          (afterGc
            ? `; after a forced full GC (diagnostic): RSS ${mib(afterGc.rss)}, heap used ${mib(afterGc.heapUsed)}, external ${mib(afterGc.external)}`
            : '') +
          (complete ? '' : `; INCOMPLETE fill (${failures} failures${firstFailure ? `: ${firstFailure}` : ''})`) +
          (full ? '' : '; cache not full'),
        detail: {
          budgetBytes: budget,
          valueBytes: VALUE_BYTES,
          idleRss: idle.rss,
          rss: filled.rss,
          peakRss: filled.peakRss,
          settleS: options.settleS,
          rssEachSecondAfterFill: rssAfterFill,
          limitBytes: limit,
          cacheBytes,
          items,
          evictions,
          heapUsed,
          heapTotal,
          external,
          segmentBytesHeld: slabHeld,
          afterForcedGc: afterGc ?? null,
          requests: next,
          targetRequests: target,
          failures,
          fillSeconds: fillS,
        },
      },
    ];
  } finally {
    await pool.destroy();
    await cluster.close();
    await origin.close();
  }
}

export const memory: SoloCase = {
  kind: 'solo',
  name: 'memory',
  needsServer: true,
  rows: (config, log) =>
    memoryRows(
      { budgetBytes: config.memoryBudgetBytes, serverCpus: config.serverCpus, deadlineS: config.quick ? 25 : 180, connections: config.connections, settleS: config.quick ? 2 : 10 },
      log,
    ),
};
