// hung-peer.ts: one pod is frozen with SIGSTOP (its sockets still accept, nothing answers); misses it owns must cost at most the peer timeout, and its circuit must open, then close after SIGCONT.
import { sum } from '../../lib/metrics.js';
import { sleep } from '../../../harness/wait.js';
import { closedLoop, latency, Rotation, summarize, valueCall } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing, type Pod } from '../pods.js';
import { atLeast, atMost, cleanLoad, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const PEER_TIMEOUT_MS = 500;
/** Room for the event loops of three pods and the clients sharing two cores. */
const SLACK_MS = 100;
const STOP_AT_MS = 2000;
const CONT_AT_MS = 6000;
const DURATION_MS = 12_000;

async function circuitClosed(asker: Pod, peer: Pod): Promise<boolean> {
  try {
    return sum(await asker.samples(), 'geecache_peer_circuit', { peer: peer.self, state: 'closed' }) >= 1;
  } catch {
    return false;
  }
}

export const hungPeer: Scenario = {
  id: 'hung-peer',
  title: '2. hung peer',
  injected: `SIGSTOP of 1 of 3 pods from ${STOP_AT_MS / 1000} s to ${CONT_AT_MS / 1000} s (then SIGCONT) of a ${DURATION_MS / 1000} s load over the other 2; every request a new key; GEECACHE_PEER_TIMEOUT_MS=${PEER_TIMEOUT_MS}`,
  async run(log) {
    const origin = await startFaultyOrigin();
    const ring = await startRing({ name: 'hung', pods: 3, groups: `rel:64MiB:${origin.url}`, env: { GEECACHE_PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS) } });
    try {
      const victim = ring.pods[0]!;
      const survivors = ring.pods.slice(1);
      const rotation = new Rotation(survivors);
      const before = await ring.totals();
      const t0 = performance.now();
      let stoppedAt = NaN;
      let continuedAt = NaN;
      let tripsWhileStopped = NaN;
      let closedAfterMs = NaN;
      const fault = (async () => {
        await sleep(STOP_AT_MS);
        victim.signal('SIGSTOP');
        stoppedAt = performance.now() - t0;
        log(`SIGSTOP ${victim.name} at ${(stoppedAt / 1000).toFixed(2)} s`);
        await sleep(CONT_AT_MS - STOP_AT_MS);
        // Read while the victim cannot answer /metrics itself: the survivors' counters only.
        tripsWhileStopped = (await Promise.all(survivors.map((pod) => pod.totals()))).reduce((n, t) => n + t.trips, 0) - before.trips;
        victim.signal('SIGCONT');
        continuedAt = performance.now() - t0;
        log(`SIGCONT ${victim.name} at ${(continuedAt / 1000).toFixed(2)} s`);
        // Until both survivors ask the victim again (or a bound past the load's end).
        const deadline = t0 + DURATION_MS + 6000;
        while (performance.now() < deadline) {
          const closed = await Promise.all(survivors.map((pod) => circuitClosed(pod, victim)));
          if (closed.every(Boolean)) {
            closedAfterMs = performance.now() - t0 - continuedAt;
            return;
          }
          await sleep(200);
        }
      })();
      let next = 0;
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        t0,
        pick: () => rotation.pick(),
        next: () => valueCall(`h-${next++}`),
      });
      await fault;
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples);
      const during = latency(samples, stoppedAt, continuedAt);
      const owned = samples.filter((s) => s.startMs >= stoppedAt && s.startMs < continuedAt && ring.ownerOf(s.key!) === victim.index);
      const ownedLatency = latency(owned);
      const others = latency(samples.filter((s) => s.startMs >= stoppedAt && s.startMs < continuedAt && ring.ownerOf(s.key!) !== victim.index));
      const slow = owned.filter((s) => s.ms > PEER_TIMEOUT_MS).length;
      const after = samples.filter((s) => s.startMs >= continuedAt + closedAfterMs && ring.ownerOf(s.key!) === victim.index);
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, during),
        notes: [
          `while stopped: ${fmt(owned.length)} misses of keys it owned, p50 ${fmt(ownedLatency.p50, 1)} ms, p99 ${fmt(ownedLatency.p99)} ms, max ${fmt(ownedLatency.max)} ms (${slow} over ${PEER_TIMEOUT_MS} ms); other misses max ${fmt(others.max)} ms`,
          `circuit trips ${fmt(tripsWhileStopped)} while stopped (${fmt(delta.trips)} in all), fallbacks ${fmt(delta.peerErrors)}`,
          Number.isFinite(closedAfterMs)
            ? `both survivors' circuits closed again ${fmt(closedAfterMs / 1000, 1)} s after SIGCONT; then ${fmt(after.length)} misses of its keys`
            : 'circuits still not closed at the end',
        ],
        checks: [
          ...cleanLoad(summary),
          atLeast('misses of its keys while stopped', owned.length, 1),
          atMost('their max latency', Math.round(ownedLatency.max), PEER_TIMEOUT_MS + SLACK_MS, ' ms'),
          atLeast('circuit trips while stopped', tripsWhileStopped, survivors.length),
          { what: `circuits closed after SIGCONT${Number.isFinite(closedAfterMs) ? '' : ' (not within the run)'}`, pass: Number.isFinite(closedAfterMs) },
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
