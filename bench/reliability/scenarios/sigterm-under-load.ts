// sigterm-under-load.ts: a pod gets SIGTERM while clients hold keep-alive connections to it and keep sending; each request must be answered or refused, never reset.
import { sleep } from '../../../harness/wait.js';
import { closedLoop, latency, randomValueCalls, Rotation, summarize } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing } from '../pods.js';
import { cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const DURATION_MS = 7000;
const TERM_AT_MS = 2000;
const KEYS = 20_000;

export const sigtermUnderLoad: Scenario = {
  id: 'sigterm',
  title: '7. SIGTERM under load',
  injected: `SIGTERM to 1 of 3 pods ${TERM_AT_MS / 1000} s into a ${DURATION_MS / 1000} s load of ${CLIENTS} keep-alive clients over all 3; a client that is refused drops the pod from its rotation`,
  async run(log) {
    const origin = await startFaultyOrigin();
    const ring = await startRing({ name: 'term', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const victim = ring.pods[0]!;
      const survivors = ring.pods.slice(1);
      const rotation = new Rotation(ring.pods);
      const before = await ring.totals();
      const t0 = performance.now();
      let termAt = NaN;
      let exit: { code: number | string; ms: number } | undefined;
      const fault = sleep(TERM_AT_MS).then(async () => {
        termAt = performance.now() - t0;
        log(`SIGTERM ${victim.name} at ${(termAt / 1000).toFixed(2)} s`);
        exit = await victim.terminate();
        log(`${victim.name} exited with ${exit.code} after ${Math.round(exit.ms)} ms`);
      });
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: DURATION_MS,
        t0,
        pick: () => rotation.pick(),
        next: randomValueCalls('t', KEYS),
        // What a Service does once the endpoint is gone: the client goes elsewhere.
        onSample: (s) => {
          if (s.outcome === 'refused' && s.target === victim.name) rotation.remove(victim);
        },
      });
      await fault;
      const delta = diffTotals(await ring.totals(), before);
      const summary = summarize(samples, ['refused']);
      const refusedElsewhere = samples.filter((s) => s.outcome === 'refused' && s.target !== victim.name).length;
      const toVictim = samples.filter((s) => s.target === victim.name && s.startMs >= termAt);
      const answered = toVictim.filter((s) => s.status !== undefined).length;
      const resets = summary.byOutcome.reset ?? 0;
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, latency(samples, termAt)),
        notes: [
          `resets ${resets}; to the terminating pod after SIGTERM: ${fmt(toVictim.length)} requests, ${fmt(answered)} answered, ${fmt(summary.byOutcome.refused ?? 0)} refused (expected)`,
          `exit ${exit?.code ?? '?'} ${fmt(exit?.ms ?? NaN)} ms after SIGTERM; fallbacks ${fmt(delta.peerErrors)}, circuit trips ${fmt(delta.trips)}`,
        ],
        checks: [
          ...cleanLoad(summary),
          equal('resets', resets, 0),
          equal('refusals by pods still running', refusedElsewhere, 0),
          { what: `terminated pod exited 0 (got ${exit?.code ?? 'no exit'})`, pass: exit?.code === 0 },
          ...(await podsHealthy(survivors)),
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
