// peer-killed.ts: one of three pods dies by SIGKILL mid-load; the two survivors keep answering, loading the dead pod's keys themselves.
import { sleep } from '../../../harness/wait.js';
import { closedLoop, latency, randomValueCalls, Rotation, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing } from '../pods.js';
import { cleanLoad, atLeast, fmt, noErrorLogs, outcomes, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const DURATION_MS = 8000;
const KILL_AT_MS = 2000;
const KEYS = 20_000;

export const peerKilled: Scenario = {
  id: 'peer-killed',
  title: '1. peer killed',
  injected: `SIGKILL of 1 of 3 pods ${KILL_AT_MS / 1000} s into an ${DURATION_MS / 1000} s load of ${CLIENTS} clients over the other 2`,
  async run(log) {
    const origin = await startFaultyOrigin();
    const ring = await startRing({ name: 'killed', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const victim = ring.pods[0]!;
      const survivors = ring.pods.slice(1);
      const rotation = new Rotation(survivors);
      const before = await ring.totals();
      const t0 = performance.now();
      let killedAt = NaN;
      const fault = sleep(KILL_AT_MS).then(() => {
        victim.signal('SIGKILL');
        killedAt = performance.now() - t0;
        log(`SIGKILL ${victim.name} (pid ${victim.pid}) at ${(killedAt / 1000).toFixed(2)} s`);
      });
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        t0,
        pick: () => rotation.pick(),
        next: randomValueCalls('k', KEYS),
      });
      await fault;
      const exit = await victim.child.exited;
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples);
      const during = latency(samples, killedAt);
      const orphans = samples.filter((s) => s.startMs >= killedAt && ring.ownerOf(s.key!) === victim.index);
      const orphanSummary = summarize(orphans);
      const orphanLatency = latency(orphans);
      const logs = noErrorLogs(survivors);
      return {
        ...rowOf(summary, during),
        notes: [
          `after the kill ${fmt(orphans.length)} requests for keys the dead pod owned: ${outcomes(orphanSummary)}, max ${fmt(orphanLatency.max)} ms`,
          `fallbacks (geecache_peer_errors_total) ${fmt(delta.peerErrors)}, circuit trips ${fmt(delta.trips)}`,
          `source loads ${fmt(origin.totalLoads)} (local loads ${fmt(delta.localLoads)}, fetched from owners ${fmt(delta.peerLoads)})`,
          `victim exit: ${exit}`,
        ],
        checks: [
          ...cleanLoad(summary),
          { what: `victim killed (exit ${exit})`, pass: exit === 'SIGKILL' },
          atLeast('requests for the dead pod\'s keys after the kill', orphans.length, 1),
          atLeast('fallback loads on the survivors', delta.peerErrors, 1),
          ...(await podsHealthy(survivors)),
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
