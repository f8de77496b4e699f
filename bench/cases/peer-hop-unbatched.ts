// peer-hop-unbatched.ts: the peer hop with GEECACHE_PEER_BATCH=off (one GET to b per key, as groupcache), on two pods of its own.
import type { ThroughputCase } from '../lib/case.js';
import { PEER_HOP_KEYS, UNBATCHED_PAIR } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const peerHopUnbatched: ThroughputCase = {
  kind: 'throughput',
  name: 'peer-hop-unbatched',
  servers: UNBATCHED_PAIR,
  target({ cluster, core }) {
    const pair = cluster(UNBATCHED_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const keys = pair.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
    const setup = `as peer-hop with GEECACHE_PEER_BATCH=off: one GET to b per key, as groupcache does; a and b share ${core}`;
    const paths = keys.map((k) => a.apiPath(k));
    return { case: 'peer-hop-unbatched', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
