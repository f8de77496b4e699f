// full-cache.ts measures hits on one hot key while the pod's cache holds over a million tiny entries, against the same pod empty.
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { mget } from '../../harness/mget.js';
import { startCluster } from '../lib/cluster.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { scrape, sum } from '../lib/metrics.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

/** The goals: throughput at least 0.9x the empty pod's, p99 at most 1.5x, max at most 2x + 10 ms. */
const GOALS = { throughput: 0.9, p99: 1.5, maxFactor: 2, maxPlusMs: 10 };
/** 1.1 M entries of 12-byte keys and 8-byte values (76 budget bytes each) fit in 80 MiB. */
const ENTRIES = 1_100_000;
const BUDGET = '80MiB';
/** A pod whose getter is code (bench/children/code-getter-pod.ts): a miss costs no origin round trip. */
const CODE_GETTER_POD = fileURLToPath(new URL('../children/code-getter-pod.js', import.meta.url));
/** Keys per multi-get: the most one takes. */
const KEYS_PER_MGET = 1000;

/**
 * Fills the group with `entries` tiny values by multi-gets of keys that miss: the pod loads each from
 * its code getter and keeps it. A miss through /api, one request a key, takes minutes for a million.
 */
async function fill(http: string, group: string, entries: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let next = 0;
  const worker = async () => {
    while (next < entries) {
      const first = next;
      next = Math.min(entries, next + KEYS_PER_MGET);
      const keys = Array.from({ length: next - first }, (_, i) => `f-${String(first + i).padStart(10, '0')}`);
      const answer = await mget(http, keys, { group, agent, timeoutMs: 30_000 });
      if (answer.status !== 200) throw new Error(`POST /api/mget: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    }
  };
  try {
    await Promise.all([worker(), worker(), worker(), worker()]);
  } finally {
    agent.destroy();
  }
}

const describe = (r: LoadResult) => `${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms`;

export const fullCache: SoloCase = {
  kind: 'solo',
  name: 'full-cache',
  needsServer: true,
  async rows(config, log): Promise<Row[]> {
    // The group's source is never asked: the pod's getter is code.
    const cluster = await startCluster({ name: 'full', pods: 1, groups: `tiny:${BUDGET}:demo`, cpus: config.serverCpus, script: CODE_GETTER_POD });
    try {
      const pod = cluster.pods[0]!;
      const key = 'hot-key';
      const hot = (durationS: number) =>
        runLoad({ base: pod.http, paths: [pod.apiPath(key, 'tiny')], connections: config.connections, durationS, generator: config.generator, cpus: config.loadCpus, serverPids: [pod.child.pid] });
      await hot(config.warmupS);
      const empty = await hot(config.durationS);
      log(`full-cache: empty pod, ${describe(empty)}`);
      const started = Date.now();
      await fill(pod.http, 'tiny', ENTRIES);
      const items = sum(await scrape(`${pod.http}/metrics`), 'geecache_cache_items', { group: 'tiny', cache: 'main' });
      log(`full-cache: ${ENTRIES} entries loaded by multi-gets in ${((Date.now() - started) / 1000).toFixed(0)} s, ${items} held`);
      await hot(config.rewarmS || 1);
      const full = await hot(config.durationS);
      log(`full-cache: ${items} entries, ${describe(full)}`);
      const throughput = full.rps / empty.rps;
      const p99 = full.p99Ms / empty.p99Ms;
      const maxBound = GOALS.maxFactor * empty.maxMs + GOALS.maxPlusMs;
      const pass = items >= 1_000_000 && throughput >= GOALS.throughput && p99 <= GOALS.p99 && full.maxMs <= maxBound;
      return [
        {
          case: 'full-cache',
          ratio: `${throughput.toFixed(2)}x req/s, p99 ${p99.toFixed(2)}x, max ${full.maxMs.toFixed(1)} vs ${empty.maxMs.toFixed(1)} ms, ${items} entries`,
          goal: `>= ${GOALS.throughput}x, p99 <= ${GOALS.p99}x, max <= ${GOALS.maxFactor}x + ${GOALS.maxPlusMs} ms, >= 1 M entries`,
          verdict: pass ? 'PASS' : 'FAIL',
          detail: { items, empty, full, throughput, p99, maxBoundMs: maxBound },
        },
      ];
    } finally {
      await cluster.close();
    }
  },
};
