// cluster.ts starts geecache pods for the bench (node dist/src/main.js, with the image's flags, pinned to the servers' core)
// on the harness's loopback ring, and answers which pod owns a key.
import { NODE_FLAGS, POD_ENV } from '../../src/memory/node-flags.js';
import { spawnChild, type Child } from '../../harness/child.js';
import { certificateScratch, issueCertificate, makeCa } from '../../harness/peer-certificates.js';
import { keyOwnership, loopbackRing, ringSettings, type KeyOwnership, type LoopbackRing } from '../../harness/loopback-ring.js';
import { MAIN_JS } from '../../harness/pod.js';
import { serverNode } from '../../harness/server-node.js';
import { waitForOk } from '../../harness/wait.js';
import { counters, scrape, type Counters } from './metrics.js';

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
  peerBatch?: 'on' | 'off';
  /** Mutual TLS between the pods, with a CA and one certificate made for this cluster. Default false. */
  peerTls?: boolean;
  cpus: string | undefined;
  /** Extra node flags (e.g. --cpu-prof) per pod index. */
  nodeArgs?: (index: number) => string[];
  /** A command, with its arguments, that each pod's node runs under (e.g. valgrind), by pod name. Default: none. */
  wrap?: (name: string) => string[];
  /** How long each pod may take to answer /readyz, ms. Default 20 s. */
  readyTimeoutMs?: number;
  /** More environment for every pod (settings the case is about). */
  env?: Record<string, string>;
  /** The program each pod runs. Default: the server (dist/src/main.js). */
  script?: string;
}

export interface Cluster extends KeyOwnership {
  readonly pods: readonly Pod[];
  close(): Promise<void>;
}

/** Pod `i`'s environment in the bench: the pods' POD_ENV (which the bench's own environment may override), the ring, `groups`. */
export function staticPodEnv(ring: LoopbackRing, i: number, groups: string): NodeJS.ProcessEnv {
  return { ...POD_ENV, ...process.env, ...ringSettings(ring, i), GEECACHE_GROUPS: groups };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const ring = await loopbackRing(options.pods, options.peerTls ? 'https' : 'http');
  const { selves } = ring;
  const pods: Pod[] = [];
  const certificates = options.peerTls ? certificateScratch() : undefined;
  const tlsEnv = certificates ? { GEECACHE_PEER_TLS_DIR: issueCertificate(makeCa(certificates.path, 'ring-ca'), `${certificates.path}/pods`, 'geecache-peer') } : {};
  for (let i = 0; i < options.pods; i++) {
    const name = `${options.name}-${String.fromCharCode(97 + i)}`;
    const http = `http://127.0.0.1:${ring.httpPorts[i]!}`;
    const env: NodeJS.ProcessEnv = {
      ...staticPodEnv(ring, i, options.groups),
      GEECACHE_HOT_CACHE: options.hotCache ?? 'on',
      GEECACHE_PEER_BATCH: options.peerBatch ?? 'on',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...tlsEnv,
      ...options.env,
    };
    // The pods' own flags first (as the Dockerfile's CMD gives them), then the bench's, which may override them.
    const child = spawnChild(name, serverNode(), [...NODE_FLAGS, ...(options.nodeArgs?.(i) ?? []), options.script ?? MAIN_JS], { cpus: options.cpus, env, wrap: options.wrap?.(name) });
    pods.push({
      name,
      self: selves[i]!,
      http,
      child,
      apiPath: (key, group) => `/api?key=${encodeURIComponent(key)}${group ? `&group=${encodeURIComponent(group)}` : ''}`,
      counters: async () => counters(await scrape(`${http}/metrics`)),
    });
  }
  const cluster = await readyCluster(pods, selves, options.readyTimeoutMs).catch((err: unknown) => {
    certificates?.remove();
    throw err;
  });
  return certificates ? { ...cluster, close: () => cluster.close().finally(certificates.remove) } : cluster;
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
