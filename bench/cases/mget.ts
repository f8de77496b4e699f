// mget.ts is the multi-get case: through one pod of three, 100 keys spread over the three owners, asked as one
// POST /api/mget or as 100 single GETs, at the same concurrency in the same run.
import { Pool } from 'undici';
import { BATCH_CONTENT_TYPE, encodeKeys, FrameReader } from '../../src/protocol/batch.js';
import { startCluster } from '../lib/cluster.js';
import { startOrigin } from '../lib/origin.js';
import type { Row } from '../lib/report.js';
import type { SoloCase } from '../lib/case.js';

const KEYS = 100;
const CONCURRENCY = 16;
const LATENCY_ROUNDS = 20;

/** Keys answered per second by `worker` running `CONCURRENCY` at a time for `seconds`. */
async function keysPerSecond(seconds: number, worker: () => Promise<number>, concurrency = CONCURRENCY): Promise<number> {
  const started = performance.now();
  const until = started + seconds * 1000;
  let keys = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) keys += await worker();
    }),
  );
  return keys / ((performance.now() - started) / 1000);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function mgetRows(options: { seconds: number; serverCpus: string | undefined }, log: (message: string) => void): Promise<Row[]> {
  const origin = await startOrigin();
  // Hot cache off: every single GET of a key owned elsewhere crosses to its owner, as the multi-get's keys do.
  const cluster = await startCluster({ name: 'mget', pods: 3, groups: `bench:64MiB:${origin.url}`, hotCache: 'off', cpus: options.serverCpus });
  const api = cluster.pods[0]!;
  const pool = new Pool(api.http, { connections: CONCURRENCY });
  try {
    const keys = [0, 1, 2].flatMap((owner) => cluster.keysOwnedBy(owner, 'mget-', owner === 0 ? 34 : 33));
    const body = encodeKeys(keys);
    const multi = async (): Promise<number> => {
      const answer = await pool.request({ method: 'POST', path: '/api/mget?group=bench', headers: { 'content-type': BATCH_CONTENT_TYPE }, body });
      const reader = new FrameReader();
      let ok = 0;
      for await (const chunk of answer.body) for (const frame of reader.push(chunk as Buffer)) if (frame.status === 200) ok++;
      if (answer.statusCode !== 200 || ok !== KEYS) throw new Error(`mget answered ${answer.statusCode} with ${ok} of ${KEYS} values`);
      return KEYS;
    };
    let next = 0;
    const single = async (key = keys[next++ % KEYS]!): Promise<number> => {
      const answer = await pool.request({ method: 'GET', path: api.apiPath(key) });
      await answer.body.dump();
      if (answer.statusCode !== 200) throw new Error(`GET answered ${answer.statusCode}`);
      return 1;
    };
    await multi(); // every key loaded and cached at its owner
    log(`mget: ${KEYS} keys over 3 owners through one pod, ${CONCURRENCY} concurrent, ${options.seconds} s each way`);
    await keysPerSecond(1, single); // warm-up of both paths
    await keysPerSecond(1, multi);
    // Two rounds each way, interleaved, the better of each: other work on the host disturbs one round, rarely both.
    let singleRate = 0;
    let multiRate = 0;
    for (let round = 0; round < 2; round++) {
      singleRate = Math.max(singleRate, await keysPerSecond(options.seconds, single));
      multiRate = Math.max(multiRate, await keysPerSecond(options.seconds, multi));
    }
    // Single gets one at a time, for the record: if they beat the concurrent rate, the host was busy.
    const singleAlone = await keysPerSecond(1, single, 1);
    // Latency: one client, nothing else in flight.
    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };
    const multiMs: number[] = [];
    const sequentialMs: number[] = [];
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      multiMs.push(await time(multi));
      sequentialMs.push(await time(async () => { for (const key of keys) await single(key); }));
    }
    const rateRatio = multiRate / singleRate;
    const latencyRatio = median(multiMs) / median(sequentialMs);
    return [
      {
        case: 'mget: keys/s, 100-key multi-get vs single gets',
        rps: Math.round(multiRate),
        ratio: `${rateRatio.toFixed(2)}x the keys/s of single gets (${Math.round(singleRate)} keys/s; ${Math.round(singleAlone)} one at a time)`,
        goal: '>= 3x',
        verdict: rateRatio >= 3 ? 'PASS' : 'FAIL',
        detail: { multiRate, singleRate, singleAlone, concurrency: CONCURRENCY, keys: KEYS },
      },
      {
        case: 'mget: one multi-get vs 100 sequential gets',
        p50Ms: median(multiMs),
        ratio: `${latencyRatio.toFixed(3)}x the latency (${median(multiMs).toFixed(2)} ms vs ${median(sequentialMs).toFixed(2)} ms, medians of ${LATENCY_ROUNDS})`,
        goal: '<= 0.2x',
        verdict: latencyRatio <= 0.2 ? 'PASS' : 'FAIL',
        detail: { multiMs, sequentialMs },
      },
    ];
  } finally {
    await pool.close();
    await cluster.close();
    await origin.close();
  }
}

export const mget: SoloCase = {
  kind: 'solo',
  name: 'mget',
  needsServer: true,
  rows: (config, log) => mgetRows({ seconds: config.durationS, serverCpus: config.serverCpus }, log),
};
