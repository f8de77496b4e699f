// autocannon-child.ts runs autocannon in its own process (so it never shares the server's event loop) and prints one JSON result line.
//
// Usage: node dist/bench/autocannon-child.js '{"base":"http://127.0.0.1:8080","paths":["/api?key=a"],"connections":50,"durationS":5}'
import { createRequire } from 'node:module';
import { percentile } from '../lib/stats.js';

/** The slice of autocannon 8's API used here (it ships no types). */
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
  on(event: 'done', listener: (result: AutocannonResult) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;

interface ChildArgs {
  base: string;
  /** With more than one, each request picks one at random. */
  paths: string[];
  connections: number;
  durationS: number;
  timeoutS?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// autocannon's own histogram has 1 ms resolution; record exact (sub-ms) 2xx latencies instead.
let latencies = new Float64Array(1 << 16);
let count = 0;
const cpuBefore = process.cpuUsage();
const paths = args.paths;
const instance = autocannon({
  url: args.base + (paths[0] ?? '/'),
  ...(paths.length > 1
    ? { requests: [{ setupRequest: (req: { path: string }) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }) }] }
    : {}),
  connections: args.connections,
  duration: args.durationS,
  timeout: args.timeoutS ?? 10,
  pipelining: 1,
});
instance.on('response', (_client, statusCode, _bytes, ms) => {
  if (statusCode < 200 || statusCode > 299) return;
  if (count === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[count++] = ms;
});
instance.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
instance.on('done', (result) => {
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, count).sort();
  const out = {
    requests: result.requests.total,
    ok: count,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    durationS: result.duration,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: count > 0 ? sorted[count - 1] : NaN,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
  console.log('ACJSON ' + JSON.stringify(out));
  process.exit(0);
});
