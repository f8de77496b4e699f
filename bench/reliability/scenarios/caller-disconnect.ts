// caller-disconnect.ts: most clients hang up 50 ms into a 1 s load; the patient ones sharing those loads, and everyone afterwards, must be answered right by pods that stay healthy.
import { sleep } from '../../../harness/wait.js';
import { apiPath, closedLoop, expectValue, latency, Rotation, summarize, valueCall, type Sample } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { diffTotals, startRing } from '../pods.js';
import { atLeast, atMost, cleanLoad, equal, fmt, noErrorLogs, podsHealthy, type Scenario } from '../scenario.js';

const ABORTERS = 12;
const PATIENT = 4;
const ABORT_AFTER_MS = 50;
const SOURCE_MS = 1000;
const FAULT_MS = 6000;
const AFTER_MS = 3000;
/**
 * The clients ask for KEYS_PER_WINDOW keys of a new window every WINDOW_MS: 16 new loads a second,
 * a sixth of what the ring's origin connections carry at this latency (32 per pod, GEECACHE_ORIGIN_CONCURRENCY),
 * so the run shows what disconnects do, not what an overload does.
 */
const WINDOW_MS = 500;
const KEYS_PER_WINDOW = 8;
/**
 * Connections a pod may rightly hold open at the end: its origin pool (32), its peer pools both ways
 * (2 peers x 32, twice) and the clients' keep-alive connections (16). A leak of the aborted ones would be hundreds.
 */
const FD_ROOM = 32 + 2 * 2 * 32 + 16;

export const callerDisconnect: Scenario = {
  id: 'caller-disconnect',
  title: '4. caller disconnects',
  injected: `${ABORTERS} clients abort every request after ${ABORT_AFTER_MS} ms for ${FAULT_MS / 1000} s (source ${SOURCE_MS / 1000} s, ${KEYS_PER_WINDOW} new keys every ${WINDOW_MS} ms), beside ${PATIENT} patient clients asking for the same keys; then ${AFTER_MS / 1000} s of 16 clients re-reading every one of those keys`,
  async run(log) {
    const origin = await startFaultyOrigin({ latencyMs: SOURCE_MS });
    const ring = await startRing({ name: 'abort', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const rotation = new Rotation(ring.pods);
      const fdsBefore = ring.pods.map((pod) => pod.fds());
      const before = await ring.totals();
      const t0 = performance.now();
      let windows = 0;
      const current = (): string => {
        const window = Math.floor((performance.now() - t0) / WINDOW_MS);
        windows = Math.max(windows, window + 1);
        return `d-${window}-${Math.floor(Math.random() * KEYS_PER_WINDOW)}`;
      };
      const [aborted, patient] = await Promise.all([
        closedLoop({
          clients: ABORTERS,
          durationMs: FAULT_MS,
          t0,
          pick: () => rotation.pick(),
          next: () => {
            const key = current();
            return { key, path: apiPath(key), check: expectValue(key), abortAfterMs: ABORT_AFTER_MS };
          },
        }),
        closedLoop({
          clients: PATIENT,
          durationMs: FAULT_MS,
          t0,
          pick: () => rotation.pick(),
          // The loads the aborting clients walk away from.
          next: () => valueCall(current()),
        }),
      ]);
      const loadsDuringFault = origin.totalLoads;
      log(`${aborted.length} aborted requests, ${patient.length} patient ones; ${loadsDuringFault} source loads`);
      origin.setLatency(0);
      const afterwards: Sample[] = await closedLoop({
        clients: ABORTERS + PATIENT,
        durationMs: AFTER_MS,
        t0,
        pick: () => rotation.pick(),
        next: () => valueCall(`d-${Math.floor(Math.random() * windows)}-${Math.floor(Math.random() * KEYS_PER_WINDOW)}`),
      });
      await sleep(1000);
      const fdsAfter = ring.pods.map((pod) => pod.fds());
      const delta = diffTotals(await ring.totals(), before);
      const abortSummary = summarize(aborted, ['aborted']);
      const patientSummary = summarize(patient);
      const afterSummary = summarize(afterwards);
      const during = latency(patient);
      const fdGrowth = Math.max(...fdsAfter.map((n, i) => n - fdsBefore[i]!));
      const logs = noErrorLogs(ring.pods);
      return {
        requests: patient.length + afterwards.length,
        failed: patientSummary.failed + afterSummary.failed,
        wrong: patientSummary.wrong + afterSummary.wrong,
        p50Ms: during.p50,
        p99Ms: during.p99,
        notes: [
          `${fmt(abortSummary.byOutcome.aborted ?? 0)} requests aborted by their clients (expected; ${fmt((abortSummary.byOutcome.ok ?? 0) + (abortSummary.byOutcome['wrong-value'] ?? 0))} answered first)`,
          `requests = ${fmt(patient.length)} patient ones during the aborts (p50/p99 shown) + ${fmt(afterwards.length)} afterwards (p99 ${fmt(latency(afterwards).p99, 1)} ms)`,
          `source loads while aborting ${fmt(loadsDuringFault)} for ${fmt(windows * KEYS_PER_WINDOW)} keys, ${fmt(origin.abandoned)} abandoned by a pod before the answer`,
          `open fds per pod ${fdsBefore.join('/')} before, ${fdsAfter.join('/')} after; RSS ${ring.pods.map((p) => fmt(p.rss() / 2 ** 20)).join('/')} MiB; fallbacks ${fmt(delta.peerErrors)}, circuit trips ${fmt(delta.trips)}`,
        ],
        checks: [
          ...cleanLoad(patientSummary).map((c) => ({ ...c, what: `patient ${c.what}` })),
          ...cleanLoad(afterSummary).map((c) => ({ ...c, what: `afterwards ${c.what}` })),
          equal('errors or wrong values seen by the aborting clients', abortSummary.failed + abortSummary.wrong, 0),
          atLeast('aborted requests', abortSummary.byOutcome.aborted ?? 0, 1),
          atMost('slowest patient request', Math.round(during.max), SOURCE_MS + 500, ' ms'),
          atMost('growth of open fds in any pod', fdGrowth, FD_ROOM),
          ...(await podsHealthy(ring.pods)),
          logs.check,
        ],
        evidence: [...logs.evidence, ...abortSummary.examples, ...patientSummary.examples, ...afterSummary.examples],
      };
    } finally {
      await ring.close();
      await origin.close();
    }
  },
};

