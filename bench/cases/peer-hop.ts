// peer-hop.ts: API on pod a, keys owned by pod b and cached there, so nearly every request crosses to b.
import type { ThroughputCase } from '../lib/case.js';
import { HOT_OFF_PAIR, PEER_HOP_KEYS } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const peerHop: ThroughputCase = {
  kind: 'throughput',
  name: 'peer-hop',
  servers: HOT_OFF_PAIR,
  target({ cluster, core }) {
    const pair = cluster(HOT_OFF_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const keys = pair.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
    const setup =
      `API on pod a; ${keys.length} keys owned by pod b and cached there, one picked at random per request so concurrent ` +
      `requests rarely share a key (each request crosses to b); hot cache off; a and b share ${core}`;
    const paths = keys.map((k) => a.apiPath(k));
    return { case: 'peer-hop', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
