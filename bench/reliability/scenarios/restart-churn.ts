// restart-churn.ts: every 3 s one pod is taken out of the clients' rotation, sent SIGTERM, started again on its ports and put back once ready; nobody may see an error.
import { sleep } from '../../../harness/wait.js';
import { closedLoop, latency, randomValueCalls, Rotation, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing, type Pod } from '../pods.js';
import { cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Check, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const FIRST_AT_MS = 1000;
const EVERY_MS = 3000;
const RESTARTS = 5;
const DURATION_MS = FIRST_AT_MS + EVERY_MS * RESTARTS + 1000;
const KEYS = 20_000;

interface Restart {
  pod: string;
  code: number | string;
  exitMs: number;
  readyMs: number;
  /** Peers a survivor's ring listed while this pod was down. */
  ringWhileDown: number;
}

async function ringSize(pod: Pod): Promise<number> {
  try {
    const res = await fetch(`${pod.http}/debug/ring`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { peers?: unknown[] };
    return body.peers?.length ?? 0;
  } catch {
    return 0;
  }
}

export const restartChurn: Scenario = {
  id: 'restart-churn',
  title: '6. restart churn',
  injected: `SIGTERM + restart of one pod (a, b, c, a, b) every ${EVERY_MS / 1000} s for ${(EVERY_MS * RESTARTS) / 1000} s; clients (${CLIENTS}, ${DURATION_MS / 1000} s) stop using a pod just before its SIGTERM and resume once /readyz says 200`,
  async run(log) {
    const origin = await startFaultyOrigin();
    const ring = await startRing({ name: 'churn', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const rotation = new Rotation(ring.pods);
      const before = await ring.totals();
      const t0 = performance.now();
      const restarts: Restart[] = [];
      const churn = (async () => {
        for (let i = 0; i < RESTARTS; i++) {
          const wait = t0 + FIRST_AT_MS + i * EVERY_MS - performance.now();
          if (wait > 0) await sleep(wait);
          const pod = ring.pods[i % ring.pods.length]!;
          const survivor = ring.pods[(i + 1) % ring.pods.length]!;
          rotation.remove(pod);
          const { code, ms } = await pod.terminate();
          const ringWhileDown = await ringSize(survivor);
          const readyMs = await pod.start();
          rotation.add(pod);
          restarts.push({ pod: pod.name, code, exitMs: ms, readyMs, ringWhileDown });
          log(`restarted ${pod.name}: exit ${code} ${Math.round(ms)} ms after SIGTERM, ready ${Math.round(readyMs)} ms after start`);
        }
      })();
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        t0,
        pick: () => rotation.pick(),
        next: randomValueCalls('c', KEYS),
      });
      await churn;
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples);
      const during = latency(samples, FIRST_AT_MS);
      const range = (values: number[]): string => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
      const logs = noErrorLogs(ring.pods);
      const checks: Check[] = [
        ...cleanLoad(summary),
        equal('restarts done', restarts.length, RESTARTS),
        equal('restarts that did not exit 0 on SIGTERM', restarts.filter((r) => r.code !== 0).length, 0),
        equal('rings that stopped listing a restarting pod', restarts.filter((r) => r.ringWhileDown !== ring.pods.length).length, 0),
        ...(await podsHealthy(ring.pods)),
        logs.check,
      ];
      return {
        ...rowOf(summary, during),
        notes: [
          `${restarts.length} restarts; SIGTERM → exit ${range(restarts.map((r) => r.exitMs))} ms, start → ready ${range(restarts.map((r) => r.readyMs))} ms; exit codes ${restarts.map((r) => r.code).join(',')}`,
          `the survivors' rings listed ${[...new Set(restarts.map((r) => r.ringWhileDown))].join('/')} peers while a pod was down`,
          `fallbacks ${fmt(delta.peerErrors)}, circuit trips ${fmt(delta.trips)}, source loads ${fmt(origin.totalLoads)}`,
        ],
        checks,
        evidence: [...logs.evidence, ...summary.examples],
      };
    } finally {
      await ring.close();
      await origin.close();
    }
  },
};
