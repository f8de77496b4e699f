// idle-after-load.ts measures how a pod serves /api hits after it sat idle between two loads, with the pod's
// flags and with V8's own floor for the young generation (--min-semi-space-size=0 after src/node-flags.ts).
//
// Usage: npm run bench:build && node dist/bench/experiments/idle-after-load.js [--idle 35] [--runs 3]
//
// Each variant starts a fresh two-pod cluster (hot cache off) and a baseline server, warms the pod up
// (scraped every 0.5 s), measures --runs pairs of 5 s runs (baseline, then pod), leaves everything idle
// for --idle seconds and measures again at once. For both phases it prints the first pair (what load
// meets right after the idle spell) with the pod's young generation after it, and the medians.
// A full `npm run bench` idles every pod while the other cases run.
import { parseArgs } from 'node:util';
import { startBaseline, type Baseline } from '../lib/baseline.js';
import { startCluster } from '../lib/cluster.js';
import { defaultGenerator, runLoad, type LoadResult } from '../lib/load.js';
import { scrape, sum } from '../lib/metrics.js';
import { startOrigin } from '../lib/origin.js';
import { hasTaskset, installCleanup, pinProcess, stopAll } from '../../harness/child.js';
import { sleep } from '../../harness/wait.js';
import { median } from '../lib/stats.js';
import { scrapeWhile } from '../lib/throughput.js';

const { values } = parseArgs({ options: { idle: { type: 'string', default: '35' }, runs: { type: 'string', default: '3' } } });
const idleS = Number(values.idle);
const runs = Number(values.runs);
if (!(idleS >= 0) || !Number.isInteger(runs) || runs < 1) throw new TypeError('--idle must be >= 0 and --runs a positive integer');
const [serverCpus, loadCpus] = hasTaskset ? ['0', '1'] : [undefined, undefined];

const VARIANTS: ReadonlyArray<{ name: string; nodeArgs: string[] }> = [
  { name: 'pod flags', nodeArgs: [] },
  { name: "V8's floor", nodeArgs: ['--min-semi-space-size=0'] },
];

installCleanup();
pinProcess(process.pid, loadCpus);
const origin = await startOrigin({ valueBytes: 100 });

/** "0.91x rps, p99 1.27x (1.48 ms)": the pod's medians against the baseline's. */
function compare(pod: LoadResult[], base: LoadResult[]): string {
  const rps = median(pod.map((r) => r.rps)) / median(base.map((r) => r.rps));
  const p99 = median(pod.map((r) => r.p99Ms));
  return `${rps.toFixed(2)}x rps, p99 ${(p99 / median(base.map((r) => r.p99Ms))).toFixed(2)}x (${p99.toFixed(2)} ms)`;
}

/** The pod's young generation (V8's new space, from prom-client's heap metrics) in MiB. */
async function youngMiB(http: string): Promise<string> {
  const bytes = sum(await scrape(`${http}/metrics`), 'nodejs_heap_space_size_total_bytes', { space: 'new' });
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function probe(nodeArgs: string[]): Promise<[string, string]> {
  const cluster = await startCluster({ name: 'idleload', pods: 2, groups: `bench:64MiB:${origin.url}`, hotCache: 'off', cpus: serverCpus, nodeArgs: () => nodeArgs });
  const a = cluster.pods[0]!;
  const key = cluster.keyOwnedBy(0, 'api-');
  let baseline: Baseline | undefined;
  try {
    baseline = await startBaseline('baseline', [key], serverCpus);
    const { url, apiPath } = baseline;
    const load = (base: string, path: string, durationS: number) =>
      runLoad({ base, paths: [path], connections: 50, durationS, generator: defaultGenerator, cpus: loadCpus });
    const onPod = (s: number) => load(a.http, a.apiPath(key), s);
    const onBaseline = (s: number) => load(url, apiPath(key), s);
    const scraping = scrapeWhile([a], 500);
    try {
      await onBaseline(3);
      await onPod(5);
    } finally {
      await scraping.stop();
    }
    const phase = async (): Promise<string> => {
      const pod: LoadResult[] = [];
      const base: LoadResult[] = [];
      let first = '';
      for (let i = 0; i < runs; i++) {
        base.push(await onBaseline(5));
        pod.push(await onPod(5));
        if (i === 0) first = `first run ${compare(pod, base)}, young generation ${await youngMiB(a.http)}; `;
      }
      return `${first}median ${compare(pod, base)}`;
    };
    const before = await phase();
    await sleep(idleS * 1000);
    return [before, await phase()];
  } finally {
    await cluster.close();
    await baseline?.child.stop();
  }
}

try {
  for (const variant of VARIANTS) {
    const [before, after] = await probe(variant.nodeArgs);
    console.log(`${variant.name.padEnd(10)}  before the idle spell: ${before}  after ${idleS} s idle: ${after}`);
  }
} finally {
  await origin.close();
  await stopAll();
}
