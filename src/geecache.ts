// geecache.ts is the library's node: groups with getters in code, peers given or discovered, handlers to mount
// or ports to listen on. It maps a small options object onto the server's Config and runs a CacheNode.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { CacheNode } from './cache-node.js';
import { loadConfig, type Config } from './config.js';
import type { ByteView } from './engine/byteview.js';
import type { Getter, Group, GroupStats, SetOptions } from './engine/group.js';
import { invalidateEverywhere, type InvalidationReport } from './engine/invalidation.js';
import type { PeerRing } from './engine/peer-ring.js';
import { isWildcardAddress, peerUrl, peerUrlProblem } from './engine/peer-url.js';
import { setEverywhere, type SetReport } from './engine/set-everywhere.js';
import type { PeerTraffic } from './engine/peers.js';
import { UnknownGroupError } from './errors.js';

/** One group: a name, its getter, and how much it may cache. */
export interface GroupDefinition {
  name: string;
  /** Loads a key on a miss at its owner: any async function (reject with NotFoundError for a key that does not exist). */
  getter: Getter;
  /** Bytes the group may cache (keys + values). Default 64 MiB. */
  cacheBytes?: number;
  /** How long a loaded value is served, in ms. Default 0: until evicted. */
  ttlMs?: number;
  /** How long past its expiry a value is served while one refresh runs. Default 0. */
  staleWhileRevalidateMs?: number;
  /** How long past its expiry a value stands in for a failed load. Default 0. */
  staleIfErrorMs?: number;
}

/** Peers from the EndpointSlices of a headless Service (the node runs inside the cluster, or with a kubeconfig). */
export interface KubernetesPeers {
  service: string;
  /** Default: the pod's own namespace, or the kubeconfig context's. */
  namespace?: string;
  /** The Service port name of the peer port. Default 'peer'. */
  portName?: string;
  /** Path of a kubeconfig; default: in-cluster credentials when in a pod, else ~/.kube/config. */
  kubeconfig?: string;
}

export interface GeecacheOptions {
  groups: readonly GroupDefinition[];
  /** This node's peer URL, as the other peers reach it. Default http://127.0.0.1:<peerPort>. Required with Kubernetes peers (use the pod IP). */
  self?: string;
  /** Every peer URL of the ring (self included), or Kubernetes discovery. Default: this node alone. */
  peers?: readonly string[] | { kubernetes: KubernetesPeers };
  /** Port of the peer protocol when the node listens. Default 8001; 0 for any free one. */
  peerPort?: number;
  /** Port of /api, /metrics and health when the node listens. Default 9999; 0 for any free one. */
  httpPort?: number;
  /** Address both listeners bind to. Default 127.0.0.1. */
  bind?: string;
  /**
   * Whether start() listens on peerPort and httpPort. Default true. With false, mount `peerHandler`
   * (or `peerMiddleware()`) in a server that `self` names, and `httpHandler` if you want /api.
   */
  listen?: boolean;
  /** Path prefix of the peer protocol. Default '/_geecache/' (Go groupcache's). */
  basePath?: string;
  /** Bearer token of PUT and DELETE /api. Default: none (both refused). It never leaves this node when peerToken is set. */
  adminToken?: string;
  /**
   * Bearer token every peer of the ring shares, required on the peer port for peeks, handoffs, and the
   * sets and invalidations peers pass on (plain gets stay open, as a Go groupcache peer sends none).
   * Default: none (the admin token then goes with sets and invalidations).
   */
  peerToken?: string;
  /** Deadline of a request to a peer without a sign of life, in ms. Default 2000. */
  peerTimeoutMs?: number;
  /** Keep a sample of other owners' values locally (groupcache's hot cache). Default true. */
  hotCache?: boolean;
  /** Hand cached values to their next owners when membership changes and on close. Default true. */
  handoff?: boolean;
  /** How long close() lets requests in flight finish, in ms. Default 10000. */
  drainTimeoutMs?: number;
  /** Where the node logs. Default: nowhere (a silent pino logger). */
  logger?: Logger;
  /** Collect prom-client's default process metrics in the node's registry. Default false. */
  defaultMetrics?: boolean;
}

/** A node's counters: each group's, and its requests to peers. */
export interface NodeStats {
  groups: Record<string, Readonly<GroupStats>>;
  peers: readonly string[];
  peerTraffic: Readonly<PeerTraffic>;
}

/** The server's way in (main.ts): a Config read from the environment, groups with the sources it names. Not a stable API. */
export interface ServerInit {
  config: Config;
  logger: Logger;
}

/** Default bytes of a group that does not say. */
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** The Config the options describe, on the server's defaults, and the getters by group name. Throws TypeError naming a bad option. */
function configOf(options: GeecacheOptions): { config: Config; getters: Map<string, Getter> } {
  const defaults = loadConfig({});
  const groups = options.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new TypeError('groups must name at least one group');
  const getters = new Map<string, Getter>();
  for (const group of groups) {
    if (typeof group.getter !== 'function') throw new TypeError(`groups: the getter of ${JSON.stringify(group.name)} must be a function`);
    if (getters.has(group.name)) throw new TypeError(`groups: ${JSON.stringify(group.name)} is named twice`);
    getters.set(group.name, group.getter);
  }
  const port = options.peerPort ?? defaults.port;
  const bind = options.bind ?? '127.0.0.1';
  const self = options.self ?? peerUrl(isWildcardAddress(bind) ? '127.0.0.1' : bind, port);
  const selfProblem = peerUrlProblem(self);
  if (selfProblem !== undefined) throw new TypeError(`self: ${JSON.stringify(self)} ${selfProblem}`);
  const peers = options.peers ?? [self];
  const kubernetes = 'kubernetes' in peers ? peers.kubernetes : undefined;
  if (kubernetes) {
    if (options.self === undefined) throw new TypeError('self is required with Kubernetes peers: http://<pod IP>:<peer port>');
    if (!kubernetes.service) throw new TypeError('peers.kubernetes.service is required');
  } else {
    for (const peer of peers as readonly string[]) {
      const problem = peerUrlProblem(peer);
      if (problem !== undefined) throw new TypeError(`peers: ${JSON.stringify(peer)} ${problem}`);
    }
  }
  const config: Config = {
    ...defaults,
    port,
    httpPort: options.httpPort ?? defaults.httpPort,
    bind,
    self,
    discovery: kubernetes ? 'kubernetes' : 'static',
    peers: kubernetes ? [] : [...(peers as readonly string[])],
    service: kubernetes?.service ?? defaults.service,
    namespace: kubernetes?.namespace ?? defaults.namespace,
    peerPortName: kubernetes?.portName ?? defaults.peerPortName,
    kubeconfig: kubernetes?.kubeconfig ?? defaults.kubeconfig,
    groups: groups.map((group) => ({
      name: group.name,
      cacheBytes: group.cacheBytes ?? DEFAULT_CACHE_BYTES,
      ttlMs: group.ttlMs ?? 0,
      staleWhileRevalidateMs: group.staleWhileRevalidateMs ?? 0,
      staleIfErrorMs: group.staleIfErrorMs ?? 0,
      // Replaced by the getter: CacheNode takes getters in code over the source a config names.
      source: { kind: 'demo' },
    })),
    basePath: options.basePath ?? defaults.basePath,
    adminToken: options.adminToken ?? defaults.adminToken,
    peerToken: options.peerToken ?? defaults.peerToken,
    peerTimeoutMs: options.peerTimeoutMs ?? defaults.peerTimeoutMs,
    hotCache: options.hotCache ?? defaults.hotCache,
    handoff: options.handoff ?? defaults.handoff,
    drainTimeoutMs: options.drainTimeoutMs ?? defaults.drainTimeoutMs,
    // A library's process is not a pod: no idle-GC timer of ours in it.
    idleGc: false,
  };
  return { config, getters };
}

/** One group of a node, as the library hands it out: gets, sets and removals across the ring. */
export class CacheGroup {
  readonly #group: Group;
  readonly #ring: PeerRing;

  /** Made by Geecache.group(); not for construction by hand. */
  constructor(group: Group, ring: PeerRing) {
    this.#group = group;
    this.#ring = ring;
  }

  get name(): string {
    return this.#group.name;
  }

  /** The value of `key`: cached here, fetched from its owner, or loaded by the getter here when this node owns it. */
  get(key: string, options: { signal?: AbortSignal } = {}): Promise<ByteView> {
    return this.#group.get(key, options.signal ? { signal: options.signal } : {});
  }

  /**
   * Stores `value` on the key's owner (the ttlMs asked for, capped by the group's) and drops every
   * other peer's copy; a load of the key in flight cannot overwrite it. Needs peerToken (or, without
   * one, adminToken) when the owner is another node. Rejects when the owner did not store it.
   */
  set(key: string, value: Uint8Array | string, options: SetOptions = {}): Promise<SetReport> {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    return setEverywhere(this.#group, this.#ring, key, bytes, options);
  }

  /** Drops `key` everywhere, owner first; the next get loads it afresh. Needs peerToken (or adminToken) to reach other nodes. */
  remove(key: string): Promise<InvalidationReport> {
    return invalidateEverywhere(this.#group, this.#ring, key);
  }

  stats(): Readonly<GroupStats> {
    return this.#group.stats();
  }
}

/** A geecache node inside your program. Constructing it starts nothing; start() does, close() stops it. */
export class Geecache {
  readonly #node: CacheNode;
  readonly #groups = new Map<string, CacheGroup>();

  constructor(options: GeecacheOptions | ServerInit) {
    if ('config' in options) {
      this.#node = new CacheNode({ config: options.config, logger: options.logger });
    } else {
      const { config, getters } = configOf(options);
      this.#node = new CacheNode({
        config,
        logger: options.logger ?? pino({ level: 'silent' }),
        getters,
        listen: options.listen ?? true,
        defaultMetrics: options.defaultMetrics ?? false,
      });
    }
    for (const group of this.#node.groups.list()) this.#groups.set(group.name, new CacheGroup(group, this.#node.ring));
  }

  /** The group called `name` (default: the first). Throws UnknownGroupError. */
  group(name?: string): CacheGroup {
    const group = name === undefined ? this.#groups.values().next().value : this.#groups.get(name);
    if (!group) throw new UnknownGroupError(name ?? '(none)');
    return group;
  }

  /** The peer protocol's request listener: answers paths under basePath, 404 elsewhere. */
  get peerHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    return this.#node.peerHandler;
  }

  /** The same as Express-style middleware: requests outside basePath go to next(). Mount at the root (app.use(node.peerMiddleware())). */
  peerMiddleware(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
    const { basePath } = this.#node.config;
    const handler = this.#node.peerHandler;
    return (req, res, next) => ((req.url ?? '').startsWith(basePath) ? handler(req, res) : next());
  }

  /** /api (GET, PUT, DELETE), POST /api/mget, /metrics, /healthz, /readyz: what the node's HTTP port answers. */
  get httpHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    return this.#node.httpHandler;
  }

  /** Listens (unless listen: false) and starts discovery; resolves once the first peer list is in. Idempotent. */
  start(): Promise<void> {
    return this.#node.start();
  }

  /** Graceful: readiness 503, in-flight requests finish (drainTimeoutMs), values handed off, connections closed. Idempotent. */
  close(): Promise<void> {
    return this.#node.close();
  }

  /** The peer port's address once listening. */
  get peerAddress(): AddressInfo {
    return this.#node.peerAddress;
  }

  /** The HTTP port's address once listening. */
  get httpAddress(): AddressInfo {
    return this.#node.httpAddress;
  }

  /** The ring's members now. */
  get peers(): readonly string[] {
    return this.#node.ring.peers;
  }

  stats(): NodeStats {
    const groups = Object.fromEntries(this.#node.groups.list().map((group) => [group.name, group.stats()]));
    return { groups, peers: this.#node.ring.peers, peerTraffic: this.#node.peerTraffic };
  }

  /** The node's Prometheus metrics in the text format. */
  metrics(): Promise<string> {
    return this.#node.metrics.registry.metrics();
  }
}
