// loopback-ring.ts starts real geecache processes in one static ring on 127.0.0.1, for end-to-end tests.
import { CacheProcess } from './cache-process.js';
import { freePorts } from './ports.js';
import { waitFor } from './processes.js';

/**
 * `count` pods (`node dist/src/main.js`), each told of all the others, with `env` on top of the ring's
 * own settings. Resolves once every pod's /readyz answers 200; the caller stops them (stop()).
 */
export async function startLoopbackRing(count: number, env: Record<string, string>): Promise<CacheProcess[]> {
  const ports = await freePorts(2 * count);
  const selves = Array.from({ length: count }, (_, i) => `http://127.0.0.1:${ports[2 * i]}`);
  const pods = selves.map(
    (self, i) =>
      new CacheProcess({
        name: `pod-${i}`,
        host: '127.0.0.1',
        httpPort: ports[2 * i + 1]!,
        env: {
          GEECACHE_PORT: String(ports[2 * i]),
          GEECACHE_HTTP_PORT: String(ports[2 * i + 1]),
          GEECACHE_BIND: '127.0.0.1',
          GEECACHE_SELF: self,
          GEECACHE_PEERS: selves.join(','),
          LOG_LEVEL: 'warn',
          ...env,
        },
      }),
  );
  try {
    for (const pod of pods) await waitFor(async () => (await pod.get('/readyz')).status === 200, 15_000, pod.describe());
  } catch (err) {
    await Promise.all(pods.map((pod) => pod.stop()));
    throw err;
  }
  return pods;
}
