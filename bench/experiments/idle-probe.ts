// idle-probe.ts measures whether a pod that sat idle after start-up serves hot-key hits more slowly for the rest of its life.
//
// Usage: npm run bench:build && node dist/bench/experiments/idle-probe.js [--first-idle 20] [--pairs 3] [--node-args=--memory-reducer]
// (pods run with src/node-flags.ts; --node-args come after those, so --memory-reducer turns V8's memory reducer back on)
//
// Each pair starts two fresh two-pod clusters (hot cache on), one after the other: the first gets
// load right after start-up, the second only after --first-idle seconds. Both then get the same
// warm-up (scraped every 0.5 s), five 5 s measurements, a 5 s idle spell, and five more. The hot-key
// row of the full bench reads lower than alone (README, Performance); this is the smaller repro.
import { parseArgs } from 'node:util';
import { startCluster } from '../lib/cluster.js';
import { defaultGenerator, runLoad } from '../lib/load.js';
import { startOrigin } from '../lib/origin.js';
import { hasTaskset, installCleanup, stopAll } from '../../harness/child.js';
import { sleep } from '../../harness/wait.js';
import { scrapeWhile } from '../lib/throughput.js';

const { values } = parseArgs({
  options: {
    'first-idle': { type: 'string', default: '20' },
    pairs: { type: 'string', default: '3' },
    'node-args': { type: 'string', default: '' },
  },
});
const firstIdleS = Number(values['first-idle']);
const pairs = Number(values.pairs);
if (!(firstIdleS >= 0) || !Number.isInteger(pairs) || pairs < 1) throw new TypeError('--first-idle must be >= 0 and --pairs a positive integer');
const nodeArgs = values['node-args'].split(' ').filter(Boolean);
const [serverCpus, loadCpus] = hasTaskset ? ['0', '1'] : [undefined, undefined];

installCleanup();
const origin = await startOrigin({ valueBytes: 100 });

/** Mean requests/s of the measured runs of one fresh cluster. */
async function probe(idleS: number): Promise<number> {
  const cluster = await startCluster({ name: `idle${idleS}`, pods: 2, groups: `bench:64MiB:${origin.url}`, hotCache: 'on', cpus: serverCpus, nodeArgs: () => nodeArgs });
  try {
    const a = cluster.pods[0]!;
    const path = a.apiPath(cluster.keyOwnedBy(1, 'hot-'), 'bench');
    const load = (durationS: number) =>
      runLoad({ base: a.http, paths: [path], connections: 50, durationS, generator: defaultGenerator, cpus: loadCpus, serverPids: [a.child.pid] });
    await sleep(idleS * 1000);
    // Scraped during the warm-up as the bench's warm-up does (runThroughput).
    const scraping = scrapeWhile([a], 500);
    try {
      await load(5);
    } finally {
      await scraping.stop();
    }
    const rps: number[] = [];
    for (let i = 0; i < 5; i++) rps.push((await load(5)).rps);
    await sleep(5000);
    await load(3);
    for (let i = 0; i < 5; i++) rps.push((await load(5)).rps);
    return rps.reduce((sum, r) => sum + r, 0) / rps.length;
  } finally {
    await cluster.close();
  }
}

try {
  for (let pair = 1; pair <= pairs; pair++) {
    const soon = await probe(0);
    const late = await probe(firstIdleS);
    console.log(`pair ${pair}: load at start ${Math.round(soon)} rps, after ${firstIdleS} s idle ${Math.round(late)} rps (${(late / soon).toFixed(2)}x)`);
  }
} finally {
  await origin.close();
  await stopAll();
}
