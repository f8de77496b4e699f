// baseline.ts is the yardstick: plain node:http + Map in its own process (children/baseline-server.ts), and a second
// copy of it (`baseline-self`, only when asked) that should read ~1.0x.
import type { StartedServers, ThroughputCase } from '../lib/case.js';
import type { CaseName } from '../lib/config.js';
import { startBaseline } from '../lib/baseline.js';
import { OWN_PROCESS } from '../lib/servers.js';
import type { Target } from '../lib/throughput.js';
import { valueFor } from '../lib/values.js';

async function baselineTarget(name: CaseName, { apiKey, cpus, core }: StartedServers): Promise<Target> {
  const b = await startBaseline(name, [apiKey], cpus);
  const setup = `plain node:http + Map, one process on ${core}`;
  return { case: name, base: b.url, paths: [b.apiPath(apiKey)], expected: valueFor(apiKey), pids: [b.child.pid], pods: [], setup };
}

export const baseline: ThroughputCase = { kind: 'throughput', name: 'baseline', servers: OWN_PROCESS, target: (s) => baselineTarget('baseline', s) };
export const baselineSelf: ThroughputCase = { kind: 'throughput', name: 'baseline-self', servers: OWN_PROCESS, target: (s) => baselineTarget('baseline-self', s) };
