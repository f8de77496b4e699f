// greedy-batch.ts: one small batch request to an owner's peer port names one cached 1 MiB key 512 times; the owner's memory must not follow the 512 MiB it asks for.
import { request } from 'node:http';
import { sleep } from '../../../harness/wait.js';
import { sum } from '../../lib/metrics.js';
import { BATCH_CONTENT_TYPE, encodeKeys, FrameReader } from '../../../src/protocol/batch.js';
import { startFaultyOrigin } from '../origin.js';
import { startRing } from '../pods.js';
import { atMost, equal, fmt, noErrorLogs, podsHealthy, type Scenario } from '../scenario.js';

const VALUE_BYTES = 1024 * 1024;
const REPEATS = 512;
const MIB = 1024 * 1024;
const GROWTH_LIMIT_MIB = 64;

export const greedyBatch: Scenario = {
  id: 'greedy-batch',
  title: '12. greedy batch',
  injected: `one batch request (${fmt((4 + 3) * REPEATS / 1024, 1)} KiB) to an owner's peer port naming one cached ${VALUE_BYTES / MIB} MiB key ${REPEATS} times, read as fast as the client can`,
  async run(log) {
    const origin = await startFaultyOrigin({ valueBytes: VALUE_BYTES });
    const ring = await startRing({ name: 'greedy', pods: 1, groups: `rel:256MiB:${origin.url}` });
    try {
      const pod = ring.pods[0]!;
      const warm = await fetch(`${pod.http}/api?key=big`);
      await warm.arrayBuffer();
      await sleep(500);
      const before = pod.rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, pod.rss() || 0)), 10);
      const started = performance.now();
      const statuses = new Map<number, number>();
      let status = 0;
      let bodyBytes = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port: pod.peerPort, path: '/_geecache/rel/', method: 'POST', agent: false, headers: { 'content-type': BATCH_CONTENT_TYPE } },
            (res) => {
              status = res.statusCode ?? 0;
              const reader = new FrameReader();
              res.on('data', (chunk: Buffer) => {
                bodyBytes += chunk.byteLength;
                for (const frame of reader.push(chunk)) statuses.set(frame.status, (statuses.get(frame.status) ?? 0) + 1);
              });
              res.on('end', resolve);
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(encodeKeys(Array<string>(REPEATS).fill('big')));
        });
      } finally {
        clearInterval(sampler);
      }
      const ms = performance.now() - started;
      const growth = (peak - before) / MIB;
      log(`answer ${status}, ${fmt(bodyBytes / MIB, 1)} MiB in ${fmt(ms)} ms; RSS ${fmt(before / MIB)} -> ${fmt(peak / MIB)} MiB`);
      const cut = sum(await pod.samples(), 'geecache_peer_batch_answers_cut_total');
      const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b);
      const logs = noErrorLogs(ring.pods);
      return {
        requests: 1,
        failed: status === 200 || (status >= 400 && status < 500) ? 0 : 1,
        wrong: 0,
        p50Ms: ms,
        p99Ms: ms,
        notes: [
          `answer ${status}: ${fmt(bodyBytes / MIB, 1)} MiB, frames by status ${byStatus.map(([s, n]) => `${s} ×${n}`).join(', ') || 'none'}; batch answers cut ${fmt(cut)}`,
          `owner RSS ${fmt(before / MIB)} MiB before, peak ${fmt(peak / MIB)} MiB while answering (sampled every 10 ms)`,
        ],
        checks: [
          atMost('owner RSS growth', Math.round(growth), GROWTH_LIMIT_MIB, ' MiB'),
          equal('frames (one per key named, or a refusal)', status === 200 ? byStatus.reduce((n, [, count]) => n + count, 0) : REPEATS, REPEATS),
          ...(await podsHealthy(ring.pods)),
          logs.check,
        ],
        evidence: logs.evidence,
      };
    } finally {
      await ring.close();
      await origin.close();
    }
  },
};
