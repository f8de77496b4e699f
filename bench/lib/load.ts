// load.ts drives HTTP load at one URL with wrk (when on PATH) or autocannon in a child process, and measures the generator's own CPU.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, spawnChild } from '../../harness/child.js';
import { cpuSeconds, machineCpuSeconds, reapedChildrenCpuSeconds, totalCpuSeconds } from './proc-stat.js';

export type GeneratorName = 'wrk' | 'autocannon';

export interface LoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080. */
  base: string;
  /** Request paths; with more than one, each request picks one at random (so concurrent requests rarely share a key). */
  paths: readonly string[];
  /** Concurrent keep-alive connections. The anchors in docs/performance.md use 50. */
  connections: number;
  durationS: number;
  generator: GeneratorName;
  /** CPU list the generator is pinned to (taskset -c). */
  cpus?: string;
  /** Server processes whose CPU use during the run is reported next to the generator's. */
  serverPids?: readonly number[];
}

export interface LoadResult {
  generator: GeneratorName;
  /** Completed requests, any status. */
  requests: number;
  /** 2xx answers per second of run time. */
  rps: number;
  /** Socket errors and timeouts plus non-2xx answers. */
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  durationS: number;
  /** CPU seconds the generator used, and as a share of one core over the run (1.0 = one core busy). */
  generatorCpuS: number;
  generatorCores: number;
  /** CPU the listed server processes used over the same window, as cores. */
  serverCores: number;
  /**
   * Busy cores on the whole machine not explained by the generator, the servers or this
   * process: other work on the host plus kernel softirq time for loopback traffic.
   * Well above a quiet run's value means the numbers were disturbed.
   */
  otherCores: number;
  /** Cores' worth of time the hypervisor stole (0 on bare metal). */
  stealCores: number;
}

/** wrk if it is on PATH, else autocannon. */
export const hasWrk = hasCommand('wrk');
export const defaultGenerator: GeneratorName = hasWrk ? 'wrk' : 'autocannon';

// wrk's done() hook prints the numbers we need as one JSON line (latencies in microseconds).
const WRK_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

// With a paths file (one path a line, passed after --), requests are prepared once and picked at random.
const WRK_PATHS_SCRIPT = `
local requests = {}
init = function(args)
  for line in io.lines(args[1]) do requests[#requests + 1] = wrk.format("GET", line) end
end
request = function()
  return requests[math.random(#requests)]
end
${WRK_SCRIPT}`;

let scratchDir: string | undefined;
function scratch(name: string, text: string): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), 'geecache-bench-'));
  const path = join(scratchDir, name);
  writeFileSync(path, text);
  return path;
}

interface RawResult {
  requests: number;
  ok: number;
  errors: number;
  durationS: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU the generator reports for itself, if it can. */
  selfCpuS?: number;
}

function parseWrk(line: string): RawResult {
  const r = JSON.parse(line) as Record<string, number>;
  const n = (k: string): number => r[k] ?? NaN;
  const socketErrors = n('connect') + n('read') + n('write') + n('timeout');
  return {
    requests: n('requests'),
    ok: n('requests') - n('status'),
    errors: socketErrors + n('status'),
    durationS: n('durationUs') / 1e6,
    p50Ms: n('p50Us') / 1000,
    p90Ms: n('p90Us') / 1000,
    p99Ms: n('p99Us') / 1000,
    maxMs: n('maxUs') / 1000,
  };
}

function parseAutocannon(line: string): RawResult {
  const r = JSON.parse(line) as RawResult & { non2xx: number; cpuS: number };
  return { ...r, errors: r.errors + r.non2xx, selfCpuS: r.cpuS };
}

/** Runs one bounded load and returns its numbers; throws if the generator fails. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { generator } = options;
  const marker = generator === 'wrk' ? 'WRKJSON ' : 'ACJSON ';
  let resultLine: string | undefined;
  const onLine = (line: string): void => {
    if (line.startsWith(marker)) resultLine = line.slice(marker.length);
  };

  const command = generator === 'wrk' ? 'wrk' : process.execPath;
  const [first, ...rest] = options.paths;
  if (first === undefined) throw new TypeError('runLoad: paths must not be empty');
  const multi = rest.length > 0;
  const wrkArgs = ['-t1', `-c${options.connections}`, `-d${options.durationS}s`, '--timeout', '10s'];
  const args =
    generator === 'wrk'
      ? multi
        ? [...wrkArgs, '-s', scratch('paths.lua', WRK_PATHS_SCRIPT), options.base + first, '--', scratch('paths.txt', options.paths.join('\n') + '\n')]
        : [...wrkArgs, '-s', scratch('report.lua', WRK_SCRIPT), options.base + first]
      : [
          fileURLToPath(new URL('../children/autocannon-child.js', import.meta.url)),
          JSON.stringify({ base: options.base, paths: options.paths, connections: options.connections, durationS: options.durationS }),
        ];

  const serverPids = options.serverPids ?? [];
  const reapedBefore = reapedChildrenCpuSeconds();
  const serverBefore = totalCpuSeconds(serverPids);
  const machineBefore = machineCpuSeconds();
  const selfBefore = process.cpuUsage();
  const startedAt = performance.now();
  const child = spawnChild(`${generator} load`, command, args, { cpus: options.cpus, onLine });

  // Sample the generator's CPU while it runs, in case reaped-children accounting is unavailable.
  let lastSample = 0;
  const sampler = setInterval(() => (lastSample = cpuSeconds(child.pid) ?? lastSample), 250);
  const hardLimit = setTimeout(() => void child.stop(500), (options.durationS + 30) * 1000);
  const code = await child.exited;
  clearInterval(sampler);
  clearTimeout(hardLimit);
  const wallS = (performance.now() - startedAt) / 1000;
  const serverAfter = totalCpuSeconds(serverPids);
  const machineAfter = machineCpuSeconds();
  const self = process.cpuUsage(selfBefore);
  const reapedAfter = reapedChildrenCpuSeconds();

  if (code !== 0 || resultLine === undefined) {
    throw new Error(`${generator} exited with ${code} and no result\n--- last output ---\n${child.tail()}`);
  }
  const raw = generator === 'wrk' ? parseWrk(resultLine) : parseAutocannon(resultLine);
  // Reaped-children CPU of this process grows by exactly the generator's CPU when it exits
  // (nothing else exits during a run); autocannon's own cpuUsage excludes its start-up.
  const generatorCpuS =
    raw.selfCpuS ?? (reapedBefore !== undefined && reapedAfter !== undefined ? reapedAfter - reapedBefore : lastSample);
  const serverCpuS = serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : NaN;
  // The generator's CPU reported by autocannon excludes its start-up; the machine counted that too.
  const generatorAllS = reapedBefore !== undefined && reapedAfter !== undefined ? reapedAfter - reapedBefore : generatorCpuS;
  const ownS = serverCpuS + generatorAllS + (self.user + self.system) / 1e6;
  const otherCores = machineBefore && machineAfter ? (machineAfter.busy - machineBefore.busy - ownS) / wallS : NaN;
  const stealCores = machineBefore && machineAfter ? (machineAfter.steal - machineBefore.steal) / wallS : NaN;
  return {
    generator,
    requests: raw.requests,
    rps: raw.ok / raw.durationS,
    errors: raw.errors,
    p50Ms: raw.p50Ms,
    p90Ms: raw.p90Ms,
    p99Ms: raw.p99Ms,
    maxMs: raw.maxMs,
    durationS: raw.durationS,
    generatorCpuS,
    generatorCores: generatorCpuS / raw.durationS,
    serverCores: serverCpuS / wallS,
    otherCores,
    stealCores,
  };
}
