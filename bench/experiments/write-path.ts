// write-path.ts compares two ways a node:http server can send a value: as a Buffer, or as latin1 text.
//
// Usage: npm run bench:build && node dist/bench/experiments/write-path.js [--sizes 100,256,512,1024,8192] [--rounds 5] [--duration 3]
//
// For each value size it starts two baseline servers (baseline-server.ts) on the servers' core, one writing
// its value as a Buffer (as the bench's baseline does) and one as latin1 text made once at start
// (BENCH_BODY=text), checks both answer the same bytes, warms both up, then alternates --rounds pairs of
// runs (which goes first alternates too) and prints each side's median rps and text/bytes. ServerResponse
// joins a string body to the header and sends them in one write, a Buffer body in a second one:
// src/byteview.ts's TEXT_WRITE_MAX_BYTES comes from this.
import { parseArgs } from 'node:util';
import { startBaseline, type Baseline } from '../lib/baseline.js';
import { defaultGenerator, runLoad } from '../lib/load.js';
import { hasTaskset, installCleanup, pinProcess, stopAll } from '../../harness/child.js';
import { median } from '../lib/stats.js';
import { checkTarget } from '../lib/throughput.js';
import { valueFor } from '../lib/values.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '100,256,512,1024,8192' }, rounds: { type: 'string', default: '5' }, duration: { type: 'string', default: '3' } },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 1 || !(durationS > 0)) {
  throw new TypeError('--sizes must be positive integers, --rounds a positive integer, --duration > 0');
}
const [serverCpus, loadCpus] = hasTaskset ? ['0', '1'] : [undefined, undefined];
const KEY = 'k';

installCleanup();
pinProcess(process.pid, loadCpus);
const load = (server: Baseline, seconds: number) =>
  runLoad({ base: server.url, paths: [server.apiPath(KEY)], connections: 50, durationS: seconds, generator: defaultGenerator, cpus: loadCpus });

/** Throws unless `server` answers 200 with exactly the value's bytes. */
const checkBody = (server: Baseline, size: number): Promise<void> =>
  checkTarget({ case: 'baseline', base: server.url, paths: [server.apiPath(KEY)], expected: valueFor(KEY, size), pids: [], pods: [], setup: server.child.name });

console.log(`generator ${defaultGenerator}, 50 connections, ${rounds} x ${durationS} s per side and size${hasTaskset ? ', servers on core 0, load on core 1' : ', NOT PINNED'}`);
console.log('value bytes   Buffer rps   text rps   text/Buffer');
try {
  for (const size of sizes) {
    const launch = (body: string) => startBaseline(`${body}-${size}`, [KEY], serverCpus, 0, [], { env: { BENCH_VALUE_BYTES: String(size), BENCH_BODY: body } });
    const bytes = await launch('bytes');
    const text = await launch('text');
    await checkBody(bytes, size);
    await checkBody(text, size);
    await load(bytes, 3);
    await load(text, 3);
    const rps: Record<'bytes' | 'text', number[]> = { bytes: [], text: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['bytes', 'text'] as const) : (['text', 'bytes'] as const);
      for (const side of order) rps[side].push((await load(side === 'bytes' ? bytes : text, durationS)).rps);
    }
    const [b, t] = [median(rps.bytes), median(rps.text)];
    console.log(`${String(size).padStart(11)}   ${Math.round(b).toLocaleString('en-US').padStart(10)}   ${Math.round(t).toLocaleString('en-US').padStart(8)}   ${(t / b).toFixed(3)}x`);
    await stopAll();
  }
} finally {
  await stopAll();
}
