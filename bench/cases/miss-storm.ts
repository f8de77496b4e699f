// miss-storm.ts fires N concurrent requests for one cold key at one pod and checks the source saw exactly one load.
import { Pool } from 'undici';
import { startBaseline } from '../lib/baseline.js';
import type { SoloCase } from '../lib/case.js';
import { startCluster, type Cluster } from '../lib/cluster.js';
import { diff, type Counters } from '../lib/metrics.js';
import { startOrigin, type Origin } from '../lib/origin.js';
import { sleep } from '../../harness/wait.js';
import type { Row } from '../lib/report.js';
import { median, percentile } from '../lib/stats.js';
import { valueFor, VALUE_BYTES } from '../lib/values.js';

export interface StormOptions {
  cluster: Cluster;
  origin: Origin;
  group: string;
  /** Concurrent requests (and connections), default 1000 in the config. */
  requests: number;
  /** The origin's latency; every answer must come within it + 100 ms. */
  sourceLatencyMs: number;
  reps: number;
  /** Where the floor's delay server runs (the servers' core). */
  serverCpus: string | undefined;
}

interface Fired {
  ok: number;
  failures: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Time to open the connections beforehand (not part of the latencies). */
  connectMs: number;
}

/**
 * Opens `requests` keep-alive connections to `base` first (so the latencies are
 * the server's and not the TCP accept backlog's), calls `beforeFire`, then sends
 * one request per connection for `path` at once and times each answer from the start.
 */
async function fire(base: string, path: string, expected: Buffer, requests: number, beforeFire: () => Promise<void>): Promise<Fired> {
  const pool = new Pool(base, { connections: requests, pipelining: 1, connectTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  try {
    const connectStart = performance.now();
    const deadline = Date.now() + 20_000;
    // Hold every connection busy at once so the pool has to open all of them.
    while (pool.stats.connected < requests && Date.now() < deadline) {
      await Promise.all(
        Array.from({ length: requests }, async () => {
          const res = await pool.request({ path: '/healthz', method: 'GET' });
          await res.body.arrayBuffer();
        }),
      );
    }
    const connectMs = performance.now() - connectStart;
    if (pool.stats.connected < requests) throw new Error(`only ${pool.stats.connected} of ${requests} connections opened`);
    await beforeFire();

    const latencies: number[] = [];
    const failures: string[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: requests }, async () => {
        try {
          const res = await pool.request({ path, method: 'GET' });
          const body = Buffer.from(await res.body.arrayBuffer());
          latencies.push(performance.now() - start);
          if (res.statusCode !== 200 || !body.equals(expected)) failures.push(`HTTP ${res.statusCode}, ${body.length} bytes`);
        } catch (err) {
          latencies.push(performance.now() - start);
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    return {
      ok: requests - failures.length,
      failures: [...new Set(failures)].slice(0, 5),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? NaN,
      connectMs,
    };
  } finally {
    await pool.destroy();
  }
}

interface StormRun extends Fired {
  key: string;
  owner: string;
  sourceLoads: number;
  /** geecache_local_loads_total summed over the pods, and the receiving pod's peer loads. */
  localLoads: number;
  peerLoadsAtReceiver: number;
}

/** One storm at pod 0 for a fresh key owned by pod `ownerIndex`. */
async function storm(options: StormOptions, ownerIndex: number, label: string): Promise<StormRun> {
  const { cluster, origin } = options;
  const receiver = cluster.pods[0]!;
  const key = cluster.keyOwnedBy(ownerIndex, `storm-${label}-${Date.now()}-`);
  let loadsBefore = 0;
  let before: Counters[] = [];
  const fired = await fire(receiver.http, receiver.apiPath(key, options.group), valueFor(key), options.requests, async () => {
    loadsBefore = origin.loadsOf(key);
    before = await Promise.all(cluster.pods.map((pod) => pod.counters()));
  });
  await sleep(50); // let the counters settle
  const after = await Promise.all(cluster.pods.map((pod) => pod.counters()));
  const deltas = after.map((a, i) => diff(a, before[i]!));
  return {
    ...fired,
    key,
    owner: cluster.pods[ownerIndex]?.name ?? '?',
    sourceLoads: origin.loadsOf(key) - loadsBefore,
    localLoads: deltas.reduce((n, d) => n + d.localLoads, 0),
    peerLoadsAtReceiver: deltas[0]!.peerLoads,
  };
}

/**
 * Rows: the floor (a plain node:http server that answers every request after the
 * source latency: what this client and one core can do at best), then geecache with
 * the cold key owned by the receiving pod, and owned by the other pod (one peer hop).
 */
export async function missStormRows(options: StormOptions, log: (message: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const limitMs = options.sourceLatencyMs + 100;

  const floorKey = 'storm-floor';
  const floor = await startBaseline('storm-floor', [floorKey], options.serverCpus, options.sourceLatencyMs);
  try {
    const noop = async (): Promise<void> => {};
    await fire(floor.url, floor.apiPath(floorKey), valueFor(floorKey), options.requests, noop); // warm-up
    const f = await fire(floor.url, floor.apiPath(floorKey), valueFor(floorKey), options.requests, noop);
    log(`miss-storm floor: ${f.ok}/${options.requests} ok, max ${f.maxMs.toFixed(1)} ms`);
    rows.push({
      case: 'miss-storm floor (node:http + timer)',
      p50Ms: f.p50Ms,
      p99Ms: f.p99Ms,
      ratio: `max ${f.maxMs.toFixed(0)} ms`,
      goal: 'reference',
      verdict: 'info',
      note: `a node:http server answering every request after ${options.sourceLatencyMs} ms: the client's and one core's own share of the storm latency`,
      detail: { requests: options.requests, sourceLatencyMs: options.sourceLatencyMs, run: f },
    });
  } finally {
    await floor.child.stop();
  }

  // One unmeasured storm on a key of its own, so JIT warm-up of the request path is not charged to the first case.
  await storm(options, 0, 'warmup');

  for (const [label, ownerIndex] of [
    ['miss-storm (owner: receiving pod)', 0],
    ['miss-storm (owner: other pod)', 1],
  ] as const) {
    const runs: StormRun[] = [];
    for (let rep = 0; rep < options.reps; rep++) {
      const run = await storm(options, ownerIndex, `${ownerIndex}-${rep}`);
      runs.push(run);
      log(`${label} rep ${rep + 1}: ${run.sourceLoads} source load(s), ${run.ok}/${options.requests} ok, max ${run.maxMs.toFixed(1)} ms`);
    }
    const pass = runs.every((r) => r.sourceLoads === 1 && r.ok === options.requests && r.maxMs <= limitMs);
    const worst = Math.max(...runs.map((r) => r.maxMs));
    const loads = [...new Set(runs.map((r) => r.sourceLoads))].join('/');
    rows.push({
      case: label,
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      ratio: `loads=${loads}, max ${worst.toFixed(0)} ms`,
      goal: `1 load, ${options.requests} ok, max <= ${limitMs} ms`,
      verdict: pass ? 'PASS' : 'FAIL',
      note:
        `${options.requests} concurrent, source latency ${options.sourceLatencyMs} ms, ${runs.length} cold key(s), max ${runs.map((r) => r.maxMs.toFixed(0)).join('/')} ms; ` +
        `ok ${runs.map((r) => r.ok).join('/')}; geecache local loads ${runs.map((r) => r.localLoads).join('/')}` +
        (runs.some((r) => r.failures.length) ? `; failures: ${runs.flatMap((r) => r.failures).slice(0, 3).join(' | ')}` : ''),
      detail: { requests: options.requests, sourceLatencyMs: options.sourceLatencyMs, limitMs, runs },
    });
  }
  return rows;
}

export const missStorm: SoloCase = {
  kind: 'solo',
  name: 'miss-storm',
  needsServer: true,
  async rows(config, log) {
    const origin = await startOrigin({ valueBytes: VALUE_BYTES, latencyMs: config.stormLatencyMs });
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster({ name: 'storm', pods: 2, groups: `storm:64MiB:${origin.url}`, cpus: config.serverCpus });
      return await missStormRows(
        { cluster, origin, group: 'storm', requests: config.stormRequests, sourceLatencyMs: config.stormLatencyMs, reps: config.reps, serverCpus: config.serverCpus },
        log,
      );
    } finally {
      await cluster?.close();
      await origin.close();
    }
  },
};
