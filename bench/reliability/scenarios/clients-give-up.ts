// clients-give-up.ts: 200 clients ask one pod for new keys of an origin that answers in 2 s and give up after 1 s; once they are gone the origin must get next to nothing, and /healthz must stay quick throughout.
import { sleep } from '../../../harness/wait.js';
import { sum } from '../../lib/metrics.js';
import { apiPath, closedLoop, expectValue, latency, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { startRing } from '../pods.js';
import { atMost, cleanLoad, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 200;
const SOURCE_MS = 2000;
const GIVE_UP_MS = 1000;
const DURATION_MS = 10_000;
/** How long the origin is watched after the clients left: loads nobody waits for would arrive then. */
const AFTER_MS = 10_000;
const HEALTH_EVERY_MS = 100;

export const clientsGiveUp: Scenario = {
  id: 'clients-give-up',
  title: '11. clients give up on a slow origin',
  injected: `origin answers after ${SOURCE_MS / 1000} s; ${CLIENTS} clients ask 1 pod for a new key each time and hang up after ${GIVE_UP_MS / 1000} s, for ${DURATION_MS / 1000} s; then ${AFTER_MS / 1000} s with no clients`,
  async run(log) {
    const origin = await startFaultyOrigin({ latencyMs: SOURCE_MS });
    const ring = await startRing({ name: 'giveup', pods: 1, groups: `rel:64MiB:${origin.url}` });
    try {
      const pod = ring.pods[0]!;
      let next = 0;
      const health: number[] = [];
      let loading = true;
      const probe = (async () => {
        while (loading) {
          const started = performance.now();
          try {
            const res = await fetch(`${pod.http}/healthz`, { signal: AbortSignal.timeout(5000) });
            await res.arrayBuffer();
          } catch {
            // a missing answer shows as its 5 s
          }
          health.push(performance.now() - started);
          await sleep(HEALTH_EVERY_MS);
        }
      })();
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        pick: () => pod,
        next: () => {
          const key = `g-${next++}`;
          return { key, path: apiPath(key), check: expectValue(key), abortAfterMs: GIVE_UP_MS };
        },
      });
      loading = false;
      await probe;
      const during = origin.totalLoads;
      log(`${samples.length} requests; ${during} origin requests while the clients were there`);
      await sleep(AFTER_MS);
      const afterwards = origin.totalLoads - during;
      const summary = summarize(samples, ['aborted']);
      const slowestHealth = Math.max(...health);
      const metrics = await pod.samples();
      const abandoned = sum(metrics, 'geecache_loads_abandoned_total');
      const shed = sum(metrics, 'geecache_loads_shed_total');
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, latency(samples)),
        notes: [
          `origin requests: ${fmt(during)} while the clients were there, ${fmt(afterwards)} in the ${AFTER_MS / 1000} s after they left (${fmt((100 * afterwards) / Math.max(1, during), 1)} %)`,
          `${fmt(summary.byOutcome.aborted ?? 0)} requests given up by their clients (expected), ${fmt(summary.byOutcome.ok ?? 0)} answered`,
          `loads abandoned by the pod ${fmt(abandoned)}, shed ${fmt(shed)}; origin saw ${fmt(origin.abandoned)} requests closed before its answer`,
          `/healthz every ${HEALTH_EVERY_MS} ms: ${health.length} probes, slowest ${fmt(slowestHealth)} ms`,
        ],
        checks: [
          ...cleanLoad(summary),
          atMost('origin requests after the clients left, % of those during', Math.round((1000 * afterwards) / Math.max(1, during)) / 10, 5, ' %'),
          atMost('slowest /healthz', Math.round(slowestHealth), 250, ' ms'),
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

