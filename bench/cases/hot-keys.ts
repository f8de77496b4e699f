// hot-keys.ts is the bench's hot-cache case: a Zipf workload through a pod that owns none of its keys, with
// groupcache's 1-in-10 coin and with the owner's measured rate (GEECACHE_HOT_CACHE_QPS) deciding what is hot.
import { Pool } from 'undici';
import { startCluster } from '../lib/cluster.js';
import { diff } from '../lib/metrics.js';
import { startOrigin } from '../lib/origin.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

export interface HotKeyOptions {
  requests: number;
  /** Distinct keys, all owned by the pod the requests do not go to. */
  keys: number;
  /** Zipf exponent: key of rank r is asked with probability proportional to 1 / r^s. */
  exponent: number;
  serverCpus: string | undefined;
}

/** Draws ranks 0..n-1 with Zipf(s) probabilities, from a seeded generator: both modes get the same sequence. */
function zipfSampler(n: number, s: number, seed: number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cumulative[r] = total += 1 / (r + 1) ** s;
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * Two pods; every request goes to pod a for keys pod b owns. Pod a's byte budget holds about 200
 * values, so its hot cache must choose. Reported: pod a's hot-cache hit ratio, and the requests that
 * reached the owner (its load).
 */
export async function hotKeyRows(options: HotKeyOptions, log: (message: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const results: Record<string, { hotRatio: number; ownerRequests: number }> = {};
  for (const [mode, qps] of [['1-in-10 coin (groupcache)', '0'], ['owner-measured rate >= 10/s', '10']] as const) {
    log(`hot-keys: ${mode}, ${options.requests} Zipf(${options.exponent}) requests over ${options.keys} keys`);
    const origin = await startOrigin();
    const cluster = await startCluster({ name: `zipf${qps}`, pods: 2, groups: `zipf:24KiB:${origin.url}`, cpus: options.serverCpus, env: { GEECACHE_HOT_CACHE_QPS: qps } });
    const pool = new Pool(cluster.pods[0]!.http, { connections: 16 });
    try {
      const keys = cluster.keysOwnedBy(1, 'zipf-', options.keys);
      const next = zipfSampler(options.keys, options.exponent, 42);
      const [aBefore, bBefore] = await Promise.all(cluster.pods.map((pod) => pod.counters()));
      let sent = 0;
      const worker = async () => {
        while (sent < options.requests) {
          sent++;
          const answer = await pool.request({ method: 'GET', path: cluster.pods[0]!.apiPath(keys[next()]!) });
          await answer.body.dump();
          if (answer.statusCode !== 200) throw new Error(`GET answered ${answer.statusCode}`);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const [aAfter, bAfter] = await Promise.all(cluster.pods.map((pod) => pod.counters()));
      const a = diff(aAfter!, aBefore!);
      const b = diff(bAfter!, bBefore!);
      results[qps] = { hotRatio: a.hotHits / a.gets, ownerRequests: b.serverRequests };
      rows.push({
        case: `hot keys: ${mode}`,
        ratio: `hot-cache hits ${(100 * results[qps].hotRatio).toFixed(1)}%, owner asked ${b.serverRequests} times`,
        goal: 'info',
        verdict: 'info',
        note: `${a.gets} gets at the API pod, ${a.hotHits} hot hits, ${a.peerGets} peer GETs and ${a.peerBatches} batches (${a.batchedKeys} keys)`,
        detail: { mode, a, b },
      });
    } finally {
      await pool.close();
      await cluster.close();
      await origin.close();
    }
  }
  const coin = results['0'];
  const rate = results['10'];
  if (coin && rate) {
    rows.push({
      case: 'hot keys: rate against coin',
      ratio: `owner load ${(rate.ownerRequests / coin.ownerRequests).toFixed(2)}x, hot hits ${(rate.hotRatio / coin.hotRatio).toFixed(2)}x`,
      goal: 'owner load < 1x',
      verdict: rate.ownerRequests < coin.ownerRequests ? 'PASS' : 'FAIL',
    });
  }
  return rows;
}

export const hotKeys: SoloCase = {
  kind: 'solo',
  name: 'hot-keys',
  needsServer: true,
  rows: (config, log) => hotKeyRows({ requests: config.quick ? 10_000 : 40_000, keys: 5000, exponent: 1.0, serverCpus: config.serverCpus }, log),
};
