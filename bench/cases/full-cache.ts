// full-cache.ts measures hits on one hot key while the pod's cache holds over a million tiny entries, against the same pod empty.
import { Pool } from 'undici';
import { startCluster } from '../lib/cluster.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { scrape, sum } from '../lib/metrics.js';
import { startOrigin } from '../lib/origin.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE, HANDOFF_SEGMENT, HANDOFF_SENDER_HEADER } from '../../src/protocol/handoff.js';
import { DEFAULT_BASE_PATH } from '../../src/protocol/get.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

/** The goals: throughput at least 0.9x the empty pod's, p99 at most 1.5x, max at most 2x + 10 ms. */
const GOALS = { throughput: 0.9, p99: 1.5, maxFactor: 2, maxPlusMs: 10 };
/** 1.1 M entries of 12-byte keys and 8-byte values (76 budget bytes each) fit in 80 MiB. */
const ENTRIES = 1_100_000;
const BUDGET = '80MiB';

/**
 * Fills the group on pod a with `entries` tiny values through the peer port, as handed over by pod
 * b (a ring member): a miss through /api costs a source round trip each, and a million of them
 * take minutes on a shared host. Pod a owns every key once b is counted out, so it keeps them all.
 */
async function fill(peerUrl: string, sender: string, group: string, entries: number): Promise<void> {
  const pool = new Pool(peerUrl, { connections: 2, pipelining: 1 });
  const path = DEFAULT_BASE_PATH + HANDOFF_SEGMENT + group + '/';
  const value = new Uint8Array(8).fill(118);
  const PER_BODY = 50_000;
  try {
    for (let first = 0; first < entries; first += PER_BODY) {
      const batch = Array.from({ length: Math.min(PER_BODY, entries - first) }, (_, i) => ({ key: `f-${String(first + i).padStart(10, '0')}`, value, expiresAt: 0 }));
      const res = await pool.request({ path, method: 'POST', headers: { 'content-type': HANDOFF_CONTENT_TYPE, [HANDOFF_SENDER_HEADER]: sender }, body: encodeHandoff(batch) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`POST ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
  } finally {
    await pool.close();
  }
}

const describe = (r: LoadResult) => `${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms`;

export const fullCache: SoloCase = {
  kind: 'solo',
  name: 'full-cache',
  needsServer: true,
  async rows(config, log): Promise<Row[]> {
    const origin = await startOrigin({ valueBytes: 8 });
    try {
      const cluster = await startCluster({ name: 'full', pods: 2, groups: `tiny:${BUDGET}:${origin.url}`, cpus: config.serverCpus });
      try {
        const [pod, sender] = [cluster.pods[0]!, cluster.pods[1]!];
        const key = cluster.keyOwnedBy(0, 'hot-');
        const hot = (durationS: number) =>
          runLoad({ base: pod.http, paths: [pod.apiPath(key, 'tiny')], connections: config.connections, durationS, generator: config.generator, cpus: config.loadCpus, serverPids: [pod.child.pid] });
        await hot(config.warmupS);
        const empty = await hot(config.durationS);
        log(`full-cache: empty pod, ${describe(empty)}`);
        const started = Date.now();
        await fill(pod.self, sender.self, 'tiny', ENTRIES);
        const items = sum(await scrape(`${pod.http}/metrics`), 'geecache_cache_items', { group: 'tiny', cache: 'main' });
        log(`full-cache: ${ENTRIES} entries handed over in ${((Date.now() - started) / 1000).toFixed(0)} s, ${items} held`);
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
    } finally {
      await origin.close();
    }
  },
};
