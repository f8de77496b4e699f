// loopback-ring.ts lays out a static ring of geecache pods on 127.0.0.1 (ports, peer URLs, each pod's settings),
// answers which pod owns a key, and starts such a ring for the end-to-end tests. The bench starts its pods on the
// same layout with its own flags and cores (bench/lib/cluster.ts, bench/reliability/pods.ts).
import { peerUrl, type PeerScheme } from '../src/engine/peer-url.js';
import { HashRing } from '../src/engine/ring.js';
import { CacheProcess } from './cache-process.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

/** Free ports for a static ring of `count` pods on 127.0.0.1: pod i's peer port, its HTTP port, and every peer URL. */
export interface LoopbackRing {
  peerPorts: number[];
  httpPorts: number[];
  selves: string[];
}

/** `scheme` https: a ring whose pods speak mutual TLS (GEECACHE_PEER_TLS_DIR in their settings). */
export async function loopbackRing(count: number, scheme: PeerScheme = 'http'): Promise<LoopbackRing> {
  const ports = await freePorts(count * 2);
  const peerPorts = ports.filter((_, i) => i % 2 === 0);
  const httpPorts = ports.filter((_, i) => i % 2 === 1);
  return { peerPorts, httpPorts, selves: peerPorts.map((port) => peerUrl('127.0.0.1', port, scheme)) };
}

/** The settings that make pod `i` a member of the ring: its ports and address, and every peer (static discovery). */
export function ringSettings(ring: LoopbackRing, i: number): Record<string, string> {
  return {
    GEECACHE_PORT: String(ring.peerPorts[i]!),
    GEECACHE_HTTP_PORT: String(ring.httpPorts[i]!),
    GEECACHE_BIND: '127.0.0.1',
    GEECACHE_SELF: ring.selves[i]!,
    GEECACHE_PEERS: ring.selves.join(','),
    GEECACHE_DISCOVERY: 'static',
  };
}

export interface KeyOwnership {
  /** Index of the pod that owns `key`. */
  ownerOf(key: string): number;
  /** The first `${prefix}${i}` (i = 0, 1, …) owned by pod `index`. */
  keyOwnedBy(index: number, prefix: string): string;
  /** The first `count` keys `${prefix}${i}` owned by pod `index`. */
  keysOwnedBy(index: number, prefix: string, count: number): string[];
}

/** Which pod owns a key, on the ring geecache and Go groupcache both build from the same peer URLs. */
export function keyOwnership(selves: readonly string[]): KeyOwnership {
  const ring = new HashRing(selves);
  const ownerOf = (key: string): number => selves.indexOf(ring.ownerOf(key) ?? '');
  const keysOwnedBy = (index: number, prefix: string, count: number): string[] => {
    const keys: string[] = [];
    const tries = 100 * count + 10_000;
    for (let i = 0; i < tries && keys.length < count; i++) if (ownerOf(`${prefix}${i}`) === index) keys.push(`${prefix}${i}`);
    if (keys.length < count) throw new Error(`only ${keys.length} of ${count} keys ${prefix}<n> owned by pod ${index} in ${tries} tries`);
    return keys;
  };
  return { ownerOf, keysOwnedBy, keyOwnedBy: (index, prefix) => keysOwnedBy(index, prefix, 1)[0]! };
}

/**
 * `count` pods (`node dist/src/main.js`), each told of all the others, with `env` on top of the ring's
 * own settings. Resolves once every pod's /readyz answers 200; the caller stops them (stop()).
 */
export async function startLoopbackRing(count: number, env: Record<string, string>, scheme: PeerScheme = 'http'): Promise<CacheProcess[]> {
  const ring = await loopbackRing(count, scheme);
  const pods = ring.selves.map(
    (_, i) =>
      new CacheProcess({
        name: `pod-${i}`,
        host: '127.0.0.1',
        httpPort: ring.httpPorts[i]!,
        env: { ...ringSettings(ring, i), LOG_LEVEL: 'warn', ...env },
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
