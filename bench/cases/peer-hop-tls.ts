// peer-hop-tls.ts: the peer hop with mutual TLS between the pods (GEECACHE_PEER_TLS_DIR), on two pods of its own, against peer-hop.
import type { ThroughputCase } from '../lib/case.js';
import { PEER_HOP_KEYS, TLS_PAIR } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const peerHopTls: ThroughputCase = {
  kind: 'throughput',
  name: 'peer-hop-tls',
  servers: TLS_PAIR,
  target({ cluster, core }) {
    const pair = cluster(TLS_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    const keys = pair.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS);
    const setup = `as peer-hop with mutual TLS between a and b (P-256 certificates, TLS 1.3, keep-alive connections); a and b share ${core}`;
    const paths = keys.map((k) => a.apiPath(k));
    return { case: 'peer-hop-tls', base: a.http, paths, expected: valueFor(keys[0]!), prefill: true, pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
