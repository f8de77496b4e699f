// run.ts is `npm run bench`: the cases, in the order they run. bench/README.md says what each measures and its goal;
// the machinery is in lib/ (runner.ts, throughput-stage.ts), each case in cases/.
import { stopAll } from '../harness/child.js';
import { apiHit } from './cases/api-hit.js';
import { baseline, baselineSelf } from './cases/baseline.js';
import { goApiHit } from './cases/go-api-hit.js';
import { goPeerHop } from './cases/go-peer-hop.js';
import { handoff } from './cases/handoff.js';
import { hotKey } from './cases/hot-key.js';
import { hotKeys } from './cases/hot-keys.js';
import { memory } from './cases/memory.js';
import { memoryShapes } from './cases/memory-shapes.js';
import { fullCache } from './cases/full-cache.js';
import { microRing, microStore } from './cases/micro.js';
import { mget } from './cases/mget.js';
import { missStorm } from './cases/miss-storm.js';
import { peerHop } from './cases/peer-hop.js';
import { peerHop1Key } from './cases/peer-hop-1key.js';
import { peerHopUnbatched } from './cases/peer-hop-unbatched.js';
import { peerHopTls } from './cases/peer-hop-tls.js';
import type { BenchCase } from './lib/case.js';
import { runBench } from './lib/runner.js';

const CASES: readonly BenchCase[] = [
  microRing, //         HashRing.ownerOf in-process
  microStore, //        CompactStore get/set in-process
  baseline, //          plain node:http + Map: the yardstick of the throughput cases
  baselineSelf, //      the baseline against a second copy of itself (only when asked)
  apiHit, //            /api on the pod that owns the key
  peerHop, //           /api on pod a for keys pod b owns
  peerHop1Key, //       the same with one key: singleflight merges
  peerHopUnbatched, //  the peer hop without batching, as groupcache (only when asked)
  peerHopTls, //        the peer hop over mutual TLS (only when asked)
  hotKey, //            pod a's hot cache for a key pod b owns
  goApiHit, //          Go groupcache's API hit: the reference
  goPeerHop, //         Go groupcache's peer hop: the reference for goal 2
  missStorm, //         1000 concurrent misses of one key: one source load
  memory, //            RSS against the byte budget
  memoryShapes, //      RSS against the budget per value size, beside Go groupcache
  fullCache, //         hot-key hits with over a million tiny entries cached, against the pod empty
  handoff, //           origin reloads after ring changes, handoff off and on
  hotKeys, //           Zipf traffic: what the hot cache takes from the owner
  mget, //              100 keys over 3 owners: one multi-get against single gets
];

runBench(CASES, process.argv.slice(2)).then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  },
);
