// run.ts is `npm run bench`: it runs the selected cases, prints the table and writes bench/results/*.json.
import { cpus as cpuInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBaseline } from './baseline.js';
import { serverBuilt, startCluster, type Cluster } from './cluster.js';
import { CASES, parseConfig, USAGE, type BenchConfig, type CaseName } from './config.js';
import { handoffRows } from './handoff.js';
import { hotKeyRows } from './hot-keys.js';
import { memoryRows } from './memory.js';
import { lruRows, ringRows } from './micro.js';
import { missStormRows } from './miss-storm.js';
import { goReference, startGoCluster } from './groupcache.js';
import { startOrigin, type Origin } from './origin.js';
import { hasTaskset, installCleanup, pinProcess, stopAll } from './procs.js';
import { formatTable, writeResults, type Row } from './report.js';
import { resolveServerNode, useServerNode, type ServerNodeChoice } from './server-node.js';
import { runThroughput, throughputRows, type Target } from './throughput.js';
import { valueFor, VALUE_BYTES } from './values.js';

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
/** The cases measured under load from wrk or autocannon: all but the micro benchmarks, the miss storm and memory. */
const OTHER_STAGES: readonly CaseName[] = ['micro-ring', 'micro-lru', 'miss-storm', 'memory', 'handoff', 'hot-keys'];
const THROUGHPUT_CASES: readonly CaseName[] = CASES.filter((c) => !OTHER_STAGES.includes(c));
const GO_CASES: readonly CaseName[] = ['go-api-hit', 'go-peer-hop'];
/** Go groupcache's cache on the peer-hop's API pod: room for about 30 values, so its hot cache (always on) absorbs few of the 2000 keys. */
const GO_API_POD_CACHE_BYTES = 4096;
const GEECACHE_CASES: readonly CaseName[] = ['api-hit', 'api-hit-express', 'peer-hop', 'peer-hop-1key', 'peer-hop-unbatched', 'hot-key', 'miss-storm', 'memory'];
/** Distinct keys in the peer-hop case: with 50 connections, two concurrent requests rarely pick the same one. */
const PEER_HOP_KEYS = 2000;

const began = performance.now();
const log = (message: string): void => console.error(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${message}`);

function coresNote(config: BenchConfig): string {
  if (config.serverCpus === undefined) {
    return 'NOT PINNED (no taskset or fewer than 2 cores): servers and generator share all cores; ratios are indicative only.';
  }
  return (
    `Servers on core ${config.serverCpus}; load generator, origin and the bench process on core ${config.loadCpus}. ` +
    `"Same total cores" (goal 2): every server process of a case shares core ${config.serverCpus}, so the peer hop's two pods ` +
    `(API pod and owner pod) together get the one core the API-hit pod gets alone.`
  );
}

/** Starts every server the selected throughput cases need, runs them side by side, stops them. */
async function throughputStage(config: BenchConfig): Promise<Row[]> {
  const wanted = THROUGHPUT_CASES.filter((c) => config.cases.has(c));
  if (wanted.length === 0) return [];
  const built = serverBuilt();
  const rows: Row[] = [];
  const go = wanted.some((c) => GO_CASES.includes(c)) ? goReference() : undefined;
  const runnable = wanted.filter((c) => (built || !GEECACHE_CASES.includes(c)) && (!GO_CASES.includes(c) || (go !== undefined && 'binary' in go)));
  for (const skipped of wanted.filter((c) => !runnable.includes(c))) {
    const note = GO_CASES.includes(skipped) && go && 'reason' in go ? go.reason : 'dist/src/main.js is missing (server not built)';
    rows.push({ case: skipped, verdict: 'SKIP', note });
  }

  let origin: Origin | undefined;
  const clusters: Cluster[] = [];
  try {
    origin = await startOrigin({ valueBytes: VALUE_BYTES });
    const groups = `bench:64MiB:${origin.url}`;
    const has = (c: CaseName): boolean => runnable.includes(c);
    const cpus = config.serverCpus;
    const core = cpus === undefined ? 'unpinned' : `core ${cpus}`;

    const hotOff = has('api-hit') || has('peer-hop') || has('peer-hop-1key') ? await startCluster({ name: 'hotoff', pods: 2, groups, hotCache: 'off', cpus }) : undefined;
    const express = has('api-hit-express') ? await startCluster({ name: 'express', pods: 1, groups, hotPath: 'express', cpus }) : undefined;
    const unbatched = has('peer-hop-unbatched') ? await startCluster({ name: 'unbatched', pods: 2, groups, hotCache: 'off', peerBatch: 'off', cpus }) : undefined;
    const hotOn = has('hot-key') ? await startCluster({ name: 'hoton', pods: 2, groups, hotCache: 'on', cpus }) : undefined;
    const goPods =
      go && 'binary' in go && (has('go-api-hit') || has('go-peer-hop'))
        ? await startGoCluster({ name: 'go', binary: go.binary, pods: 2, origin: origin.url, cacheBytes: (i) => (i === 0 ? GO_API_POD_CACHE_BYTES : 64 << 20), cpus })
        : undefined;
    clusters.push(...[hotOff, express, unbatched, hotOn, goPods].filter((c): c is Cluster => c !== undefined));

    const apiKey = hotOff ? hotOff.keyOwnedBy(0, 'api-') : 'api-0';
    const targets: Target[] = [];
    const baselineTarget = async (name: CaseName): Promise<Target> => {
      const b = await startBaseline(name, [apiKey], cpus);
      const setup = `plain node:http + Map, one process on ${core}`;
      return { case: name, base: b.url, paths: [b.apiPath(apiKey)], expected: valueFor(apiKey), pids: [b.child.pid], pods: [], setup };
    };
    if (has('baseline')) targets.push(await baselineTarget('baseline'));
    if (has('baseline-self')) targets.push(await baselineTarget('baseline-self'));
    if (hotOff && has('api-hit')) {
      const a = hotOff.pods[0]!;
      const setup = `API on pod a, which owns the key and has it cached; pods a+b on ${core}`;
      targets.push({ case: 'api-hit', base: a.http, paths: [a.apiPath(apiKey)], expected: valueFor(apiKey), pids: [a.child.pid], pods: [a], setup });
    }
    if (express && has('api-hit-express')) {
      const e = express.pods[0]!;
      const setup = `every route through Express (bench/express-pod.ts), one pod on ${core}`;
      targets.push({ case: 'api-hit-express', base: e.http, paths: [e.apiPath(apiKey)], expected: valueFor(apiKey), pids: [e.child.pid], pods: [e], setup });
    }
    if (hotOff && (has('peer-hop') || has('peer-hop-1key'))) {
      const [a, b] = [hotOff.pods[0]!, hotOff.pods[1]!];
      const keys = hotOff.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
      const pids = [a.child.pid, b.child.pid];
      if (has('peer-hop')) {
        const setup =
          `API on pod a; ${keys.length} keys owned by pod b and cached there, one picked at random per request so concurrent ` +
          `requests rarely share a key (each request crosses to b); hot cache off; a and b share ${core}`;
        const paths = keys.map((k) => a.apiPath(k));
        targets.push({ case: 'peer-hop', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids, pods: [a, b], setup });
      }
      if (has('peer-hop-1key')) {
        const setup = `as peer-hop but one key for all 50 connections: a's singleflight merges concurrent requests into one fetch from b`;
        targets.push({ case: 'peer-hop-1key', base: a.http, paths: [a.apiPath(keys[0]!)], expected: valueFor(keys[0]!), pids, pods: [a, b], setup });
      }
    }
    if (unbatched) {
      const [a, b] = [unbatched.pods[0]!, unbatched.pods[1]!];
      const keys = unbatched.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
      const setup = `as peer-hop with GEECACHE_PEER_BATCH=off: one GET to b per key, as groupcache does; a and b share ${core}`;
      const paths = keys.map((k) => a.apiPath(k));
      targets.push({ case: 'peer-hop-unbatched', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids: [a.child.pid, b.child.pid], pods: [a, b], setup });
    }
    if (hotOn && has('hot-key')) {
      const [a, b] = [hotOn.pods[0]!, hotOn.pods[1]!];
      const key = hotOn.keyOwnedBy(1, 'hot-');
      const setup = `API on pod a, key owned by pod b, hot cache on (measured after warm-up), a and b share ${core}`;
      targets.push({ case: 'hot-key', base: a.http, paths: [a.apiPath(key)], expected: valueFor(key), pids: [a.child.pid, b.child.pid], pods: [a, b], setup });
    }
    if (goPods) {
      const [a, b] = [goPods.pods[0]!, goPods.pods[1]!];
      const pids = [a.child.pid, b.child.pid];
      if (has('go-api-hit')) {
        const key = goPods.keyOwnedBy(1, 'api-');
        const setup = `Go groupcache (GOMAXPROCS=1): API on pod b, which owns the key and has it cached; pods a+b on ${core}`;
        targets.push({ case: 'go-api-hit', base: b.http, paths: [b.apiPath(key)], expected: valueFor(key), pids, pods: [b], setup });
      }
      if (has('go-peer-hop')) {
        const keys = goPods.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
        const setup =
          `Go groupcache (GOMAXPROCS=1): API on pod a, ${keys.length} keys owned by pod b and cached there, one at random per request; ` +
          `a's cache is ${GO_API_POD_CACHE_BYTES} bytes because groupcache's hot cache cannot be turned off; a and b share ${core}`;
        targets.push({ case: 'go-peer-hop', base: a.http, paths: keys.map((k) => a.apiPath(k)), expected: valueFor(keys[0]!), prefill: true, pids, pods: [a, b], setup });
      }
    }
    if (targets.length > 0) rows.push(...throughputRows(await runThroughput(config, targets, log)));
  } finally {
    await Promise.all(clusters.map((c) => c.close()));
    await stopAll();
    await origin?.close();
  }
  return rows;
}

async function missStormStage(config: BenchConfig): Promise<Row[]> {
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
}

/** Runs a stage; a failure becomes an ERROR row (with the reason) and the other stages still run. */
async function stage(name: string, rows: Row[], body: () => Promise<Row[]> | Row[]): Promise<void> {
  try {
    rows.push(...(await body()));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} failed: ${message}`);
    rows.push({ case: name, verdict: 'ERROR', note: message.split('\n')[0], detail: { error: message } });
    await stopAll();
  }
}

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (config.node === 'image') log("finding the image's Node (scripts/node24.sh; the first time it downloads it)");
  let node: ServerNodeChoice;
  try {
    node = resolveServerNode(config.node);
  } catch (err) {
    console.error(`--node ${config.node}: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  useServerNode(node.path);
  installCleanup();
  pinProcess(process.pid, config.loadCpus);
  const startedAt = new Date();
  const cores = coresNote(config);
  const nodeNote = `servers (pods and baselines) on Node ${node.version}: ${node.note}; the bench and its generator on ${process.version}`;
  log(`geecache bench (${config.quick ? 'quick' : 'full'}): cases ${[...config.cases].join(', ')}`);
  log(nodeNote);
  log(`generator ${config.generator}, ${config.connections} connections, ${VALUE_BYTES}-byte values, ${config.reps} x ${config.durationS} s per case`);
  log(cores);

  const rows: Row[] = [];
  const microSeconds = config.quick ? 0.2 : 0.5;
  if (config.cases.has('micro-ring')) await stage('micro-ring', rows, () => ringRows(config.reps, microSeconds));
  if (config.cases.has('micro-lru')) await stage('micro-lru', rows, () => lruRows(config.reps, microSeconds));
  await stage('throughput', rows, () => throughputStage(config));
  const built = serverBuilt();
  for (const [name, run] of [
    ['miss-storm', () => missStormStage(config)],
    [
      'memory',
      () =>
        memoryRows(
          { budgetBytes: config.memoryBudgetBytes, serverCpus: config.serverCpus, deadlineS: config.quick ? 25 : 180, connections: config.connections, settleS: config.quick ? 2 : 10 },
          log,
        ),
    ],
    ['handoff', () => handoffRows(config.quick ? 2000 : 10_000, log)],
    ['hot-keys', () => hotKeyRows({ requests: config.quick ? 10_000 : 40_000, keys: 5000, exponent: 1.0, serverCpus: config.serverCpus }, log)],
  ] as const) {
    if (!config.cases.has(name)) continue;
    if (!built) rows.push({ case: name, verdict: 'SKIP', note: 'dist/src/main.js is missing (server not built)' });
    else await stage(name, rows, run);
  }

  const finishedAt = new Date();
  const durationS = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  console.log(`\n${formatTable(rows)}\n`);
  console.log(`node: ${nodeNote}`);
  console.log(`cores: ${cores}`);
  console.log(`gen cpu / srv cpu: cores busy during the measured runs (1.00 = one core saturated). A generator near 1.00 was the limit, not the server.`);
  const result = {
    version: 1,
    mode: config.quick ? 'quick' : 'full',
    argv: process.argv.slice(2),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS,
    environment: {
      node: process.version,
      serverNode: { version: node.version, path: node.path, note: node.note },
      cpus: cpuInfo().length,
      cpuModel: cpuInfo()[0]?.model,
      taskset: hasTaskset,
      serverCpus: config.serverCpus ?? null,
      loadCpus: config.loadCpus ?? null,
      generator: config.generator,
      connections: config.connections,
      valueBytes: VALUE_BYTES,
      reps: config.reps,
      durationPerRunS: config.durationS,
      warmupS: config.warmupS,
      rewarmS: config.rewarmS,
      cores,
    },
    rows,
  };
  const paths = writeResults(RESULTS_DIR, result, startedAt, config.jsonPath);
  console.log(`results: ${paths.join(', ')} (${durationS.toFixed(1)} s)`);
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  },
);
