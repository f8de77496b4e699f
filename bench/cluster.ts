// cluster.ts starts geecache pods (node dist/src/main.js) on loopback as one static ring, and answers which pod owns a key.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HashRing } from '../src/engine/ring.js';
import { NODE_FLAGS, POD_ENV } from '../src/memory/node-flags.js';
import { freePort, spawnChild, waitForOk, type Child } from './procs.js';
import { counters, scrape, type Counters } from './metrics.js';
import { serverNode } from './server-node.js';

export const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));
/** The same pod with every route through Express (no user setting does this). */
const EXPRESS_POD_JS = fileURLToPath(new URL('./express-pod.js', import.meta.url));

/** Whether the server has been built; without it the geecache cases are skipped. */
export function serverBuilt(): boolean {
  return existsSync(MAIN_JS);
}

export interface Pod {
  readonly name: string;
  /** Peer base URL, as in GEECACHE_SELF / GEECACHE_PEERS. */
  readonly self: string;
  /** API and metrics base URL. */
  readonly http: string;
  readonly child: Child;
  /** Path and query of `GET /api` for `key`. */
  apiPath(key: string, group?: string): string;
  counters(): Promise<Counters>;
}

export interface ClusterOptions {
  name: string;
  pods: number;
  /** GEECACHE_GROUPS, e.g. "bench:64MiB:http://127.0.0.1:1234". */
  groups: string;
  hotCache?: 'on' | 'off';
  hotPath?: 'fast' | 'express';
  peerBatch?: 'on' | 'off';
  cpus: string | undefined;
  /** Extra node flags (e.g. --cpu-prof) per pod index. */
  nodeArgs?: (index: number) => string[];
  /** A command, with its arguments, that each pod's node runs under (e.g. valgrind), by pod name. Default: none. */
  wrap?: (name: string) => string[];
  /** How long each pod may take to answer /readyz, ms. Default 20 s. */
  readyTimeoutMs?: number;
  /** More environment for every pod (settings the case is about). */
  env?: Record<string, string>;
}

export interface Cluster {
  readonly pods: readonly Pod[];
  /** Index of the pod that owns `key`. */
  ownerOf(key: string): number;
  /** The first `${prefix}${i}` (i = 0, 1, …) owned by pod `index`. */
  keyOwnedBy(index: number, prefix: string): string;
  /** The first `count` keys `${prefix}${i}` owned by pod `index`. */
  keysOwnedBy(index: number, prefix: string, count: number): string[];
  close(): Promise<void>;
}

/** Free ports for a static ring of `count` pods on 127.0.0.1: pod i's peer port, its HTTP port, and every peer URL. */
export interface LoopbackRing {
  peerPorts: number[];
  httpPorts: number[];
  selves: string[];
}

export async function loopbackRing(count: number): Promise<LoopbackRing> {
  const ports = await Promise.all(Array.from({ length: count * 2 }, () => freePort()));
  const peerPorts = ports.filter((_, i) => i % 2 === 0);
  const httpPorts = ports.filter((_, i) => i % 2 === 1);
  return { peerPorts, httpPorts, selves: peerPorts.map((port) => `http://127.0.0.1:${port}`) };
}

/** Pod `i`'s environment in such a ring: the pods' POD_ENV (which the bench's own environment may override), static discovery, `groups`. */
export function staticPodEnv(ring: LoopbackRing, i: number, groups: string): NodeJS.ProcessEnv {
  return {
    ...POD_ENV,
    ...process.env,
    GEECACHE_PORT: String(ring.peerPorts[i]!),
    GEECACHE_HTTP_PORT: String(ring.httpPorts[i]!),
    GEECACHE_BIND: '127.0.0.1',
    GEECACHE_SELF: ring.selves[i]!,
    GEECACHE_PEERS: ring.selves.join(','),
    GEECACHE_DISCOVERY: 'static',
    GEECACHE_GROUPS: groups,
  };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const ring = await loopbackRing(options.pods);
  const { selves } = ring;
  const pods: Pod[] = [];
  for (let i = 0; i < options.pods; i++) {
    const name = `${options.name}-${String.fromCharCode(97 + i)}`;
    const http = `http://127.0.0.1:${ring.httpPorts[i]!}`;
    const env: NodeJS.ProcessEnv = {
      ...staticPodEnv(ring, i, options.groups),
      GEECACHE_HOT_CACHE: options.hotCache ?? 'on',
      GEECACHE_PEER_BATCH: options.peerBatch ?? 'on',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...options.env,
    };
    // The pods' own flags first (as the Dockerfile's CMD gives them), then the bench's, which may override them.
    const child = spawnChild(name, serverNode(), [...NODE_FLAGS, ...(options.nodeArgs?.(i) ?? []), options.hotPath === 'express' ? EXPRESS_POD_JS : MAIN_JS], { cpus: options.cpus, env, wrap: options.wrap?.(name) });
    pods.push({
      name,
      self: selves[i]!,
      http,
      child,
      apiPath: (key, group) => `/api?key=${encodeURIComponent(key)}${group ? `&group=${encodeURIComponent(group)}` : ''}`,
      counters: async () => counters(await scrape(`${http}/metrics`)),
    });
  }
  return readyCluster(pods, selves, options.readyTimeoutMs);
}

/** Waits until every pod answers /readyz (stopping them all if one does not), then gives the cluster. */
export async function readyCluster(pods: Pod[], selves: readonly string[], timeoutMs = 20_000): Promise<Cluster> {
  const close = async (): Promise<void> => {
    await Promise.all(pods.map((pod) => pod.child.stop()));
  };
  try {
    await Promise.all(pods.map((pod) => waitForOk(`${pod.http}/readyz`, pod.child, timeoutMs)));
  } catch (err) {
    await close();
    throw err;
  }
  return { pods, ...keyOwnership(selves), close };
}

/** Which pod owns a key, on the ring geecache and Go groupcache both build from the same peer URLs. */
export function keyOwnership(selves: readonly string[]): Pick<Cluster, 'ownerOf' | 'keyOwnedBy' | 'keysOwnedBy'> {
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
