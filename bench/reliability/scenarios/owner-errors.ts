// owner-errors.ts: the origin says 404 for some keys and 500 for others; those answers must reach the client as 404 and 502, never be cached, and never be loaded again by another pod.
import { apiPath, closedLoop, expectStatus, expectValue, latency, Rotation, send, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing } from '../pods.js';
import { cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const DURATION_MS = 6000;
const KEYS = 300;
/** Sequential requests through each pod for one missing and one failing key owned by the first pod. */
const PROBES_PER_POD = 5;

export const ownerErrors: Scenario = {
  id: 'owner-errors',
  title: "5. owner's 404/5xx",
  injected: `origin answers 404 for ${KEYS} keys and 500 for ${KEYS} others (and values for ${KEYS} more); ${CLIENTS} clients over 3 pods for ${DURATION_MS / 1000} s, a third of requests each; then ${PROBES_PER_POD} sequential requests per pod for one key of each kind`,
  async run() {
    const origin = await startFaultyOrigin({ answer: (key) => (key.startsWith('nf-') ? { status: 404 } : key.startsWith('boom-') ? { status: 500 } : {}) });
    const ring = await startRing({ name: 'errors', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const rotation = new Rotation(ring.pods);
      const before = await ring.totals();
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        pick: () => rotation.pick(),
        next: () => {
          const i = Math.floor(Math.random() * KEYS);
          const kind = Math.floor(Math.random() * 3);
          const key = kind === 0 ? `ok-${i}` : kind === 1 ? `nf-${i}` : `boom-${i}`;
          return { key, path: apiPath(key), check: kind === 0 ? expectValue(key) : expectStatus(kind === 1 ? 404 : 502) };
        },
      });
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples);
      const errorRequests = samples.filter((s) => !s.key!.startsWith('ok-')).length;
      let errorLoads = 0;
      for (const [key, n] of origin.loads) if (!key.startsWith('ok-')) errorLoads += n;

      // One request at a time, so neither singleflight nor concurrency can hide a cached or retried error.
      const probes: { kind: string; key: string; status: number; loads: number; statuses: number[] }[] = [];
      for (const [kind, prefix, status] of [['404', 'nf-probe-', 404], ['500', 'boom-probe-', 502]] as const) {
        const key = ring.keysOwnedBy(0, prefix, 1)[0]!;
        const statuses: number[] = [];
        for (const pod of ring.pods) {
          for (let i = 0; i < PROBES_PER_POD; i++) statuses.push((await send(pod, { key, path: apiPath(key), check: expectStatus(status) }, 5000)).status ?? 0);
        }
        probes.push({ kind, key, status, loads: origin.loadsOf(key), statuses });
      }
      const probeCount = ring.pods.length * PROBES_PER_POD;
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, latency(samples)),
        notes: [
          `expected errors: ${fmt(summary.byOutcome['expected-error'] ?? 0)} (404 for missing keys, 502 for failing ones), of ${fmt(errorRequests)} requests for such keys`,
          `source loads of those keys ${fmt(errorLoads)} for ${fmt(errorRequests)} requests (none cached; concurrent ones share a load)`,
          `fallbacks ${fmt(delta.peerErrors)}`,
          ...probes.map((p) => `sequential ${p.kind} probe: ${probeCount} requests → ${summarizeStatuses(p.statuses)}, ${p.loads} source loads`),
        ],
        checks: [
          ...cleanLoad(summary),
          equal('fallbacks after an owner answered 404 or 502', delta.peerErrors, 0),
          ...probes.flatMap((p) => [
            equal(`${p.kind} probe: source loads (1 per request: not cached, not retried)`, p.loads, probeCount),
            equal(`${p.kind} probe: answers other than ${p.status}`, p.statuses.filter((s) => s !== p.status).length, 0),
          ]),
          ...(await podsHealthy(ring.pods)),
          logs.check,
        ],
        evidence: [...logs.evidence, ...summary.examples],
      };
    } finally {
      await ring.close();
      await origin.close();
    }
  },
};

function summarizeStatuses(statuses: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n}× ${status}`).join(', ');
}
