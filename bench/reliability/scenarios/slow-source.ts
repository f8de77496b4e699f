// slow-source.ts: the origin takes 3 s, three times the peer timeout; every key must still be loaded exactly once in the ring, by its owner, and answered in about 3 s.
import { closedLoop, latency, randomValueCalls, Rotation, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing } from '../pods.js';
import { atMost, cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const SOURCE_MS = 3000;
const PEER_TIMEOUT_MS = 1000;
const DURATION_MS = 9000;
const KEYS = 24;
/** A request that waited for the source: the slowest a hit could plausibly take is far below. */
const COLD_MS = 1000;

export const slowSource: Scenario = {
  id: 'slow-source',
  title: '3. slow source',
  injected: `origin answers after ${SOURCE_MS / 1000} s; GEECACHE_PEER_TIMEOUT_MS=${PEER_TIMEOUT_MS}; ${CLIENTS} clients over 3 pods for ${DURATION_MS / 1000} s on ${KEYS} keys`,
  async run() {
    const origin = await startFaultyOrigin({ latencyMs: SOURCE_MS });
    const ring = await startRing({ name: 'slow', pods: 3, groups: `rel:64MiB:${origin.url}`, env: { GEECACHE_PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS) } });
    try {
      const rotation = new Rotation(ring.pods);
      const before = await ring.totals();
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        pick: () => rotation.pick(),
        next: randomValueCalls('s', KEYS),
      });
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples);
      const all = latency(samples);
      const cold = latency(samples.filter((s) => s.ms >= COLD_MS));
      const asked = new Set(samples.map((s) => s.key!));
      const notOnce = [...asked].filter((key) => origin.loadsOf(key) !== 1);
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, all),
        notes: [
          `${asked.size} keys asked for, ${fmt(origin.totalLoads)} source loads; loads per key: ${notOnce.length === 0 ? 'exactly 1 for every key' : notOnce.map((k) => `${k}×${origin.loadsOf(k)}`).join(' ')}`,
          `${fmt(cold.count)} requests waited for the source: ${fmt(cold.p50)}–${fmt(cold.max)} ms (p50–max); the rest were hits`,
          `fallbacks ${fmt(delta.peerErrors)}, fetched from owners ${fmt(delta.peerLoads)}`,
        ],
        checks: [
          ...cleanLoad(summary),
          equal('keys not loaded exactly once', notOnce.length, 0),
          atMost('slowest answer', Math.round(all.max), SOURCE_MS + 300, ' ms'),
          equal('fallbacks (owner taken for gone)', delta.peerErrors, 0),
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
