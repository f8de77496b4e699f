// go-peer-hop.ts: Go groupcache's peer hop, the reference for goal 2: API on pod a, keys owned by pod b.
import type { ThroughputCase } from '../lib/case.js';
import { GO_API_POD_CACHE_BYTES, GO_PAIR, PEER_HOP_KEYS } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const goPeerHop: ThroughputCase = {
  kind: 'throughput',
  name: 'go-peer-hop',
  servers: GO_PAIR,
  target({ cluster, core }) {
    const pair = cluster(GO_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const keys = pair.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
    const setup =
      `Go groupcache (GOMAXPROCS=1): API on pod a, ${keys.length} keys owned by pod b and cached there, one at random per request; ` +
      `a's cache is ${GO_API_POD_CACHE_BYTES} bytes because groupcache's hot cache cannot be turned off; a and b share ${core}`;
    const paths = keys.map((k) => a.apiPath(k));
    return { case: 'go-peer-hop', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
