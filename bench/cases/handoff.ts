// handoff.ts is the bench's warm-handoff case: origin loads after each ring event, handoff off (groupcache) and on.
import { measureHandoff, type HandoffMeasure, type RingEvent } from '../../harness/handoff-measure.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

/** Each event, its goal as a share of the keys loaded again with handoff on, and what it is. */
const EVENTS: Array<{ event: RingEvent; goalShare?: number; what: string }> = [
  { event: 'scale-up', goalShare: 0.01, what: 'scale 3 -> 4' },
  { event: 'scale-down', goalShare: 0.01, what: 'scale 4 -> 3 (SIGTERM)' },
  { event: 'rolling-restart', goalShare: 0.05, what: 'rolling restart of 3 pods' },
  { event: 'kill', what: 'SIGKILL of 1 of 3 pods' },
];

/**
 * `keys` warm keys on local pods found through EndpointSlices (the fake API server of the tests),
 * one event, then every key asked once more through random pods; the origin counts the loads.
 * Pods run on the bench's own Node: this case counts loads, it does not time requests.
 */
export async function handoffRows(keys: number, log: (message: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { event, goalShare, what } of EVENTS) {
    log(`handoff: ${what}, ${keys} keys, handoff off then on`);
    const off = await measureHandoff(event, { keys, handoff: false });
    const on = await measureHandoff(event, { keys, handoff: true });
    const goal = goalShare === undefined ? 'no failed request' : `<= ${Math.round(keys * goalShare)} reloads, no failed request`;
    const met = on.failed === 0 && off.failed === 0 && (goalShare === undefined || on.reloads <= keys * goalShare);
    rows.push({
      case: `handoff: ${what}`,
      ratio: `${on.reloads} reloads (handoff off: ${off.reloads})`,
      goal,
      verdict: met ? 'PASS' : 'FAIL',
      note: failures(on, off),
      detail: { on, off },
    });
  }
  return rows;
}

function failures(on: HandoffMeasure, off: HandoffMeasure): string {
  const cut = on.cut + off.cut;
  return `${on.failed + off.failed} failed requests${cut > 0 ? `; ${cut} cut off in flight on the killed pod` : ''}`;
}

export const handoff: SoloCase = { kind: 'solo', name: 'handoff', needsServer: true, rows: (config, log) => handoffRows(config.quick ? 2000 : 10_000, log) };
