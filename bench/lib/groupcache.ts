// groupcache.ts builds Go groupcache as a bench pod (bench/reference/groupcache-server) and starts it like a geecache cluster.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readyCluster, type Cluster, type Pod } from './cluster.js';
import type { Counters } from './metrics.js';
import { freePort } from '../../harness/ports.js';
import { spawnChild } from '../../harness/child.js';

const BUILD_SCRIPT = fileURLToPath(new URL('../../../scripts/build-groupcache-peer.sh', import.meta.url));

/**
 * The path of the Go reference server (scripts/build-groupcache-peer.sh builds it once per version
 * of its sources), or the reason it cannot be had here.
 */
export function goReference(): { binary: string } | { reason: string } {
  try {
    const out = execFileSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    return { binary: out.trim().split('\n').pop()! };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return { reason: `scripts/build-groupcache-peer.sh failed: ${stderr?.split('\n').pop() ?? String(err)}` };
  }
}

export interface GoClusterOptions {
  name: string;
  binary: string;
  pods: number;
  /** The bench origin's base URL: a miss loads GET <origin>/<key>. */
  origin: string;
  /** Cache budget of pod `index` (main + hot; groupcache cannot turn its hot cache off). */
  cacheBytes: (index: number) => number;
  cpus: string | undefined;
}

/** Starts Go groupcache processes as one static ring; their pods report counters from /stats. */
export async function startGoCluster(options: GoClusterOptions): Promise<Cluster> {
  const ports = await Promise.all(Array.from({ length: options.pods * 2 }, () => freePort()));
  const selves = Array.from({ length: options.pods }, (_, i) => `http://127.0.0.1:${ports[2 * i]!}`);
  const pods: Pod[] = selves.map((self, i) => {
    const name = `${options.name}-${String.fromCharCode(97 + i)}`;
    const apiAddress = `127.0.0.1:${ports[2 * i + 1]!}`;
    const args = ['-self', self, '-peers', selves.join(','), '-api', apiAddress, '-origin', options.origin, '-cache-bytes', String(options.cacheBytes(i))];
    // GOMAXPROCS=1: one core's worth of Go scheduler, as the pods get one core between them.
    const child = spawnChild(name, options.binary, args, { cpus: options.cpus, env: { ...process.env, GOMAXPROCS: '1' } });
    const http = `http://${apiAddress}`;
    return {
      name,
      self,
      http,
      child,
      apiPath: (key) => `/api?key=${encodeURIComponent(key)}`,
      counters: async () => {
        const res = await fetch(`${http}/stats`, { signal: AbortSignal.timeout(5000) });
        if (res.status !== 200) throw new Error(`GET ${http}/stats: HTTP ${res.status}`);
        return (await res.json()) as Counters;
      },
    };
  });
  return readyCluster(pods, selves);
}
