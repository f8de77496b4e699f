// go-api-hit.ts: the reference, Go groupcache (GOMAXPROCS=1) answering `GET /api?key=K` on the pod that owns K.
import type { ThroughputCase } from '../lib/case.js';
import { GO_PAIR } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const goApiHit: ThroughputCase = {
  kind: 'throughput',
  name: 'go-api-hit',
  servers: GO_PAIR,
  target({ cluster, core }) {
    const pair = cluster(GO_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const key = pair.keyOwnedBy(1, 'api-');
    const setup = `Go groupcache (GOMAXPROCS=1): API on pod b, which owns the key and has it cached; pods a+b on ${core}`;
    return { case: 'go-api-hit', base: b.http, paths: [b.apiPath(key)], expected: valueFor(key), pids: [a.child.pid, b.child.pid], pods: [b], setup };
  },
};
