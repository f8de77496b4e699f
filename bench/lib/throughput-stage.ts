// throughput-stage.ts starts the servers the selected throughput cases need (each ring once), asks every case for its
// target, runs them side by side (throughput.ts) and stops everything.
import { stopAll } from '../../harness/child.js';
import { serverBuilt } from '../../harness/pod.js';
import type { Log, ServerSpec, StartedServers, ThroughputCase } from './case.js';
import { startCluster, type Cluster } from './cluster.js';
import type { BenchConfig } from './config.js';
import { goReference, startGoCluster } from './groupcache.js';
import { startOrigin, type Origin } from './origin.js';
import type { Row } from './report.js';
import { GO_API_POD_CACHE_BYTES, HOT_OFF_PAIR } from './servers.js';
import { runThroughput, throughputRows, type Target } from './throughput.js';
import { VALUE_BYTES } from './values.js';

export async function throughputStage(config: BenchConfig, cases: readonly ThroughputCase[], log: Log): Promise<Row[]> {
  if (cases.length === 0) return [];
  const built = serverBuilt();
  const go = cases.some((c) => c.servers.kind === 'go') ? goReference() : undefined;
  const skipReason = (spec: ServerSpec): string | undefined => {
    if (spec.kind === 'geecache' && !built) return 'dist/src/main.js is missing (server not built)';
    if (spec.kind === 'go' && !(go && 'binary' in go)) return go && 'reason' in go ? go.reason : 'no Go reference';
    return undefined;
  };
  const rows: Row[] = [];
  const runnable = cases.filter((c) => skipReason(c.servers) === undefined);
  for (const skipped of cases.filter((c) => !runnable.includes(c))) rows.push({ case: skipped.name, verdict: 'SKIP', note: skipReason(skipped.servers) });

  let origin: Origin | undefined;
  const clusters = new Map<ServerSpec, Cluster>();
  try {
    origin = await startOrigin({ valueBytes: VALUE_BYTES });
    const groups = `bench:64MiB:${origin.url}`;
    const cpus = config.serverCpus;
    for (const { servers: spec } of runnable) {
      if (clusters.has(spec) || spec.kind === 'own') continue;
      const cluster =
        spec.kind === 'geecache'
          ? await startCluster({ name: spec.name, pods: spec.pods, groups, hotCache: spec.hotCache, peerBatch: spec.peerBatch, peerTls: spec.peerTls === 'on', cpus })
          : await startGoCluster({ name: 'go', binary: (go as { binary: string }).binary, pods: 2, origin: origin.url, cacheBytes: (i) => (i === 0 ? GO_API_POD_CACHE_BYTES : 64 << 20), cpus });
      clusters.set(spec, cluster);
    }
    const servers: StartedServers = {
      cluster(spec) {
        const cluster = clusters.get(spec);
        if (!cluster) throw new Error(`no ${spec.kind} servers started for this case`);
        return cluster;
      },
      cpus,
      core: cpus === undefined ? 'unpinned' : `core ${cpus}`,
      apiKey: clusters.get(HOT_OFF_PAIR)?.keyOwnedBy(0, 'api-') ?? 'api-0',
    };
    const targets: Target[] = [];
    for (const c of runnable) targets.push(await c.target(servers));
    if (targets.length > 0) rows.push(...throughputRows(await runThroughput(config, targets, log)));
  } finally {
    await Promise.all([...clusters.values()].map((c) => c.close()));
    await stopAll();
    await origin?.close();
  }
  return rows;
}
