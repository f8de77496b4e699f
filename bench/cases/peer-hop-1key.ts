// peer-hop-1key.ts: the peer hop with one key for all connections, where a's singleflight merges concurrent requests.
import type { ThroughputCase } from '../lib/case.js';
import { HOT_OFF_PAIR, PEER_HOP_KEYS } from '../lib/servers.js';
import { valueFor } from '../lib/values.js';

export const peerHop1Key: ThroughputCase = {
  kind: 'throughput',
  name: 'peer-hop-1key',
  servers: HOT_OFF_PAIR,
  target({ cluster }) {
    const pair = cluster(HOT_OFF_PAIR);
    const [a, b] = [pair.pods[0]!, pair.pods[1]!];
    // The first of the peer hop's keys, so both cases ask b for the same first key.
    const key = pair.keysOwnedBy(1, 'peer-', PEER_HOP_KEYS)[0]!;
    const setup = `as peer-hop but one key for all 50 connections: a's singleflight merges concurrent requests into one fetch from b`;
    return { case: 'peer-hop-1key', base: a.http, paths: [a.apiPath(key)], expected: valueFor(key), pids: [a.child.pid, b.child.pid], pods: [a, b], setup };
  },
};
