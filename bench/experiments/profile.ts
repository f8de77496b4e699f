// profile.ts runs one throughput case with `node --cpu-prof` on the pods and prints the top self-time functions.
//
// Usage: npm run bench:build && node dist/bench/experiments/profile.js [--case api-hit|peer-hop|baseline] [--seconds 10] [--top 25]
// The .cpuprofile files stay in the printed directory (open them in Chrome DevTools for the full picture).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startBaseline } from '../lib/baseline.js';
import { startCluster } from '../lib/cluster.js';
import { defaultGenerator, runLoad } from '../lib/load.js';
import { startOrigin } from '../lib/origin.js';
import { hasTaskset, installCleanup, pinProcess, stopAll } from '../../harness/child.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface SelfTime {
  /** Function name (may contain spaces, e.g. "(garbage collector)"). */
  name: string;
  /** Shortened script URL and line, '' for native and VM states. */
  where: string;
  ms: number;
}

/** Self time per function (name + file + line), in ms, summed over the samples. */
export function selfTimes(profile: CpuProfile): Map<string, SelfTime> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, SelfTime>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = out.get(key) ?? { name, where, ms: 0 };
    entry.ms += (profile.timeDeltas[i] ?? 0) / 1000;
    out.set(key, entry);
  });
  return out;
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm + 'node_modules/'.length);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

/** Where self time went by area: our code, each dependency, Node internals, GC, idle. */
export function byArea(times: Map<string, SelfTime>): Map<string, SelfTime> {
  const out = new Map<string, SelfTime>();
  for (const { name, where, ms } of times.values()) {
    const pkg = where.split('/');
    const area = !where
      ? name.startsWith('(') ? name : '(native: syscalls, builtins)'
      : where.startsWith('node:')
        ? 'node internals'
        : where.startsWith('dist/')
          ? where.startsWith('dist/bench/') ? 'bench (dist/bench)' : 'geecache (dist/src)'
          : pkg[0]!.startsWith('@')
            ? `${pkg[0]}/${pkg[1] ?? ''}`
            : pkg[0]!;
    const entry = out.get(area) ?? { name: area, where: '', ms: 0 };
    entry.ms += ms;
    out.set(area, entry);
  }
  return out;
}

function printTop(title: string, times: Map<string, SelfTime>, top: number): void {
  const all = [...times.values()];
  const total = all.reduce((a, b) => a + b.ms, 0);
  const busy = all.filter((t) => t.name !== '(idle)').reduce((a, b) => a + b.ms, 0);
  console.log(`\n${title} (${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s not idle; % of not idle)`);
  for (const { name, where, ms } of all.filter((t) => t.name !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, top)) {
    console.log(`${((100 * ms) / busy).toFixed(1).padStart(6)}%  ${ms.toFixed(0).padStart(7)} ms  ${name}${where ? `  ${where}` : ''}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { case: { type: 'string', default: 'api-hit' }, seconds: { type: 'string', default: '10' }, top: { type: 'string', default: '25' } },
  });
  const which = values.case;
  if (which !== 'api-hit' && which !== 'peer-hop' && which !== 'baseline') {
    throw new TypeError(`--case must be baseline, api-hit or peer-hop`);
  }
  installCleanup();
  const pin = hasTaskset ? { server: '0', load: '1' } : { server: undefined, load: undefined };
  pinProcess(process.pid, pin.load);

  const dir = mkdtempSync(join(tmpdir(), 'geecache-profile-'));
  const profArgs = (name: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
  const seconds = Number(values.seconds);
  if (which === 'baseline') {
    const b = await startBaseline('baseline', ['api-0'], pin.server, 0, profArgs('baseline'));
    const result = await runLoad({ base: b.url, paths: [b.apiPath('api-0')], connections: 50, durationS: seconds, generator: defaultGenerator, cpus: pin.load, serverPids: [b.child.pid] });
    console.log(`baseline: ${Math.round(result.rps)} rps under --cpu-prof`);
    await b.child.stop();
  } else await profileGeecache(which, profArgs, seconds, pin);
  const top = Number(values.top);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const times = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    printTop(`${file}: self time by function`, times, top);
    printTop(`${file}: self time by area`, byArea(times), 12);
  }
  console.log(`\nprofiles: ${dir}`);
}

async function profileGeecache(
  which: 'api-hit' | 'peer-hop',
  profArgs: (name: string) => string[],
  seconds: number,
  pin: { server: string | undefined; load: string | undefined },
): Promise<void> {
  const origin = await startOrigin();
  const cluster = await startCluster({
    name: 'prof',
    pods: 2,
    groups: `bench:64MiB:${origin.url}`,
    hotCache: 'off',
    cpus: pin.server,
    nodeArgs: (i) => profArgs(`pod-${String.fromCharCode(97 + i)}`),
  });
  try {
    const a = cluster.pods[0]!;
    const keys = which === 'peer-hop' ? cluster.keysOwnedBy(1, 'peer-', 2000) : [cluster.keyOwnedBy(0, 'api-')];
    for (const key of keys) await (await fetch(a.http + a.apiPath(key))).arrayBuffer();
    const result = await runLoad({
      base: a.http,
      paths: keys.map((k) => a.apiPath(k)),
      connections: 50,
      durationS: seconds,
      generator: defaultGenerator,
      cpus: pin.load,
      serverPids: cluster.pods.map((p) => p.child.pid),
    });
    console.log(`${which}: ${Math.round(result.rps)} rps under --cpu-prof (profiling slows the server; compare shapes, not numbers)`);
  } finally {
    await cluster.close(); // SIGTERM: the pods exit normally, which writes the profiles
    await origin.close();
  }
}

main().then(
  async () => {
    await stopAll();
    process.exit(0);
  },
  async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  },
);
