// hot-key.ts: API on pod a, one key owned by pod b, hot cache on, measured after warm-up.
import type { ThroughputCase } from '../lib/case.js';
import { HOT_ON_PAIR } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const hotKey: ThroughputCase = {
  kind: 'throughput',
  name: 'hot-key',
  servers: HOT_ON_PAIR,
  target({ cluster, core }) {
    const pair = cluster(HOT_ON_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const key = pair.keyOwnedBy(1, 'hot-');
    const setup = `API on pod a, key owned by pod b, hot cache on (measured after warm-up), a and b share ${core}`;
    return { case: 'hot-key', base: a.http, paths: [a.apiPath(key)], expected: valueFor(key), pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
