// api-hit.ts: `GET /api?key=K` on the pod that owns K and has it cached.
import type { ThroughputCase } from '../lib/case.js';
import { HOT_OFF_PAIR } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const apiHit: ThroughputCase = {
  kind: 'throughput',
  name: 'api-hit',
  servers: HOT_OFF_PAIR,
  target({ cluster, apiKey, core }) {
    const a = cluster(HOT_OFF_PAIR).pods[0]!;
    const setup = `API on pod a, which owns the key and has it cached; pods a+b on ${core}`;
    return { case: 'api-hit', base: a.http, paths: [a.apiPath(apiKey)], expected: valueFor(apiKey), pids: [a.child.pid], pods: [a], setup };
  },
};
