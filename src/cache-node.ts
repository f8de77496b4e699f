// cache-node.ts is one cache process (a pod), wired: groups, peer ring, discovery, both listeners, and graceful shutdown.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SETTINGS, type Config, type GroupConfig } from './config.js';
import type { Discovery } from './discovery/discovery.js';
import { WorkerDiscovery } from './discovery/kubernetes/worker-discovery.js';
import { StaticDiscovery } from './discovery/static.js';
import type { Getter, GroupObserver } from './engine/group.js';
import type { InvalidationReport } from './engine/invalidation.js';
import { GroupRegistry } from './engine/group-registry.js';
import { PeerRing } from './engine/peer-ring.js';
import { isWildcardAddress } from './engine/peer-url.js';
import type { PeerTraffic } from './engine/peers.js';
import { createApiHandler } from './http/api-handler.js';
import { createHttpApp } from './http/app.js';
import { createHttpPortHandler } from './http/http-port.js';
import { expressMessageClasses } from './http/message-classes.js';
import { HttpPeerClient } from './http/peer-client.js';
import type { BatchAnswerCounts } from './http/peer-batch-handler.js';
import { createPeerHandler } from './http/peer-handler.js';
import { adminCheck, peerCheck } from './http/admin-auth.js';
import { handOffOnLeave } from './engine/handoff/sender.js';
import { createInvalidateHandler } from './http/invalidate-handler.js';
import { createMgetHandler } from './http/mget-handler.js';
import { createSetHandler } from './http/set-handler.js';
import { createCacheServer, listen, ServerDrain, sleep, type RequestListener } from './http/servers.js';
import { PeerTls } from './http/peer-tls.js';
import { IdleGc } from './memory/idle-gc.js';
import { IdleGcPolicy, thresholdsForBudget } from './memory/idle-gc-policy.js';
import { pinTickObjectMaps } from './memory/tick-maps.js';
import { createMetrics, type CacheMetrics, type OriginLoads } from './ops/metrics.js';
import { demoSource } from './sources/demo.js';
import { httpOriginSource } from './sources/http-origin.js';

/** How long shutdown waits, after the drain, for requests to peers and sources still in flight. */
const CLOSE_GRACE_MS = 500;

export interface CacheNodeOptions {
  config: Config;
  logger: Logger;
  /** Overrides the discovery the config describes (tests). */
  discovery?: Discovery;
  /** Collect prom-client's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Getters written in code, by group name: they replace the source the config names for that group. */
  getters?: ReadonlyMap<string, Getter>;
  /**
   * Whether start() listens on the config's two ports. Default true; false for a node whose handlers
   * (peerHandler, httpHandler) are mounted in servers of the embedding program.
   */
  listen?: boolean;
}

export class CacheNode {
  readonly config: Config;
  readonly groups: GroupRegistry;
  readonly ring: PeerRing;
  readonly metrics: CacheMetrics;
  readonly discovery: Discovery;
  /** Requests to peers, every peer client's together. */
  readonly peerTraffic: Readonly<PeerTraffic>;
  private readonly logger: Logger;
  /** Serves the peer protocol. */
  readonly peerServer: Server;
  /** Serves the API, metrics, health and debug routes. */
  readonly httpServer: Server;
  /** What peerServer answers with: the peer protocol under config.basePath, 404 elsewhere. */
  readonly peerHandler: RequestListener;
  /** What httpServer answers with: /api, metrics, health and debug. */
  readonly httpHandler: RequestListener;
  private readonly getters: ReadonlyMap<string, Getter>;
  private readonly listens: boolean;
  /** The peer port's mutual TLS, from GEECACHE_PEER_TLS_DIR; undefined: plain HTTP. */
  readonly peerTls: PeerTls | undefined;
  /** Frees dropped store segments once eviction stops (config.idleGc). */
  readonly idleGc: IdleGc | undefined;
  private readonly drain: ServerDrain;
  /** The sources' connections: closed gracefully on shutdown, or destroyed past its deadline. */
  private readonly sources: Array<{ close(): Promise<void>; destroy(): Promise<void> }> = [];
  /** Batch answers cut at their byte budget or stalled, for metrics. */
  private readonly batchCounts: BatchAnswerCounts = { cut: 0, cutKeys: 0, stalled: 0 };
  /** Each HTTP origin's limiter, for metrics. */
  private readonly originLoads: OriginLoads[] = [];
  private draining = false;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: CacheNodeOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.getters = options.getters ?? new Map();
    this.listens = options.listen ?? true;
    // One set of counters for every peer client, so peers that leave keep their share of the totals.
    const peerTraffic: PeerTraffic = (this.peerTraffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 });
    const peerTls = config.peerTlsDir
      ? new PeerTls({
          dir: config.peerTlsDir,
          setting: SETTINGS.peerTlsDir.env,
          onReload: () => logger.info({ dir: config.peerTlsDir }, 'peer TLS files changed: new connections use them'),
          onReloadFailed: (err) => logger.warn({ err: err.message }, 'peer TLS files changed but cannot be used yet'),
        })
      : undefined;
    this.peerTls = peerTls;
    const connect = peerTls?.connector(config.peerTimeoutMs);
    this.ring = new PeerRing({
      self: config.self,
      replicas: config.replicas,
      handoffWindowMs: config.handoff ? config.handoffWindowMs : 0,
      createClient: (url) =>
        new HttpPeerClient({
          url,
          basePath: config.basePath,
          timeoutMs: config.peerTimeoutMs,
          batch: config.peerBatch,
          traffic: peerTraffic,
          // With a peer token the admin token never leaves this pod: peers take invalidations by the peer token.
          adminToken: config.peerToken ? undefined : config.adminToken,
          peekTimeoutMs: config.handoffPeekTimeoutMs,
          self: config.self,
          peerToken: config.peerToken,
          localAddress: isWildcardAddress(config.bind) ? undefined : config.bind,
          connect,
        }),
      onChange: (peers) => logger.info({ peers, count: peers.length }, 'peer membership changed'),
    });
    // Loads only happen after construction, when this.metrics is set.
    const observer: GroupObserver = {
      loaded: (group, where, seconds, error) => {
        const histogram = where === 'peer' ? this.metrics.peerDuration : this.metrics.loadDuration;
        histogram.observe({ group, outcome: error === undefined ? 'ok' : 'error' }, seconds);
      },
      peerFallback: (group, key, peer, error) =>
        logger.warn({ group, key, peer, err: error.message }, 'owner unreachable, loading locally'),
    };
    this.groups = new GroupRegistry({ peers: this.ring, observer, hotCache: config.hotCache, hotCacheQps: config.hotCacheQps });
    for (const group of config.groups) {
      const { name, cacheBytes, ttlMs, staleWhileRevalidateMs, staleIfErrorMs } = group;
      this.groups.create({ name, cacheBytes, ttlMs, staleWhileRevalidateMs, staleIfErrorMs, getter: this.makeGetter(group) });
    }
    const metrics = createMetrics(this.groups, this.ring, { defaultMetrics: options.defaultMetrics, peerTraffic, originLoads: this.originLoads, batchCounts: this.batchCounts });
    this.metrics = metrics;
    const budget = config.groups.reduce((total, group) => total + group.cacheBytes, 0);
    this.idleGc = config.idleGc ? new IdleGc({ ledger: this.groups.segmentLedger, logger, policy: new IdleGcPolicy(thresholdsForBudget(budget)) }) : undefined;
    this.discovery = options.discovery ?? this.makeDiscovery();

    const admin = adminCheck(config.adminToken);
    // A set tells the other peers to drop their copies as an invalidation does: both count whom they reached.
    const countPeersTold = (report: Pick<InvalidationReport, 'reached' | 'unreached'>) => {
      metrics.invalidationPeers.inc({ result: 'reached' }, report.reached);
      metrics.invalidationPeers.inc({ result: 'unreached' }, report.unreached.length);
    };
    const invalidate = createInvalidateHandler({
      groups: this.groups,
      ring: this.ring,
      adminCheck: admin,
      logger,
      onInvalidated: (group, key, report) => {
        metrics.invalidations.inc({ group, scope: key === undefined ? 'group' : 'key', from: 'client' });
        countPeersTold(report);
      },
    });
    const set = createSetHandler({
      groups: this.groups,
      ring: this.ring,
      adminCheck: admin,
      logger,
      onSet: (group, report) => {
        metrics.sets.inc({ group, from: 'client' });
        countPeersTold(report);
      },
    });
    const mget = createMgetHandler({ groups: this.groups, metrics, logger, stallTimeoutMs: config.stallTimeoutMs });
    const api = createApiHandler({ groups: this.groups, metrics, logger, ring: this.ring });
    const httpApp = createHttpApp({ metrics, ring: this.ring, logger, notReadyReason: () => this.notReadyReason(), debugRing: config.debugRing === 'http' });
    const peerHandler = createPeerHandler({
      groups: this.groups,
      basePath: config.basePath,
      adminCheck: admin,
      peerCheck: peerCheck(config.peerToken),
      onUnauthorized: (request) => metrics.peerRefused.inc({ request, reason: 'token' }),
      handoff: config.handoff
        ? {
            handoffRefusal: (sender) => this.ring.handoffWindow.handoffRefusal(sender),
            ownsWithout: (sender, key) => this.ring.handoffWindow.ownsWithout(sender, key),
            onRefused: (reason) => metrics.peerRefused.inc({ request: 'handoff', reason }),
          }
        : undefined,
      onInvalidated: (group, key) => metrics.invalidations.inc({ group, scope: key === undefined ? 'group' : 'key', from: 'peer' }),
      onSet: (group) => metrics.sets.inc({ group, from: 'peer' }),
      debugRing: config.debugRing === 'peer' ? this.ring : undefined,
      stallTimeoutMs: config.stallTimeoutMs,
      batchCounts: this.batchCounts,
      onUnexpectedError: (err, req) => logger.error({ err, url: req.url }, 'unexpected error answering a peer'),
      onLoadFailed: (err, req) => logger.warn({ url: req.url, err: err.message }, 'load for a peer failed'),
    });
    const classes = expressMessageClasses(httpApp);
    this.peerHandler = peerHandler;
    this.httpHandler = createHttpPortHandler({ get: api, invalidate, set, mget, app: httpApp, metrics });
    const limits = { maxConnections: config.maxConnections, stallTimeoutMs: config.stallTimeoutMs };
    this.peerServer = createCacheServer(classes, this.peerHandler, limits, peerTls?.serverOptions());
    peerTls?.serve(this.peerServer);
    this.httpServer = createCacheServer(classes, this.httpHandler, limits);
    this.drain = new ServerDrain([this.peerServer, this.httpServer]);
  }

  /** Hands the main caches' values to their next owners, within GEECACHE_HANDOFF_PUSH_MS and _BYTES. */
  private async handOff(): Promise<void> {
    const { handoff, handoffPushMs, handoffPushBytes } = this.config;
    if (!handoff || handoffPushMs === 0 || this.ring.peerClients().size === 0) return;
    // Static peers never see this pod leave, and take handoffs only from peers that left.
    if (this.config.discovery === 'static') return;
    const started = performance.now();
    try {
      const report = await handOffOnLeave(this.groups, this.ring, {
        deadline: started + handoffPushMs,
        maxBytes: handoffPushBytes,
        now: () => performance.now(),
        // The next owners take the values once they saw this pod leave, which the endpoint's terminating condition tells them shortly.
        wait: sleep,
      });
      this.metrics.handoffPushed.inc(report.sent);
      this.metrics.handoffPushedBytes.inc(report.bytes);
      const ms = Math.round(performance.now() - started);
      this.logger.info({ ...report, ms }, 'handed cached values to their next owners');
    } catch (err) {
      this.logger.error({ err }, 'handing cached values over failed');
    }
  }

  /** Why /readyz answers 503, or undefined when ready. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'shutting down';
    if (!this.discovery.hasListed) return 'waiting for the first peer list';
    return undefined;
  }

  /** Listens on both ports and starts discovery. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  /** Address the peer port listens on (after start). */
  get peerAddress(): AddressInfo {
    return this.peerServer.address() as AddressInfo;
  }

  get httpAddress(): AddressInfo {
    return this.httpServer.address() as AddressInfo;
  }

  /**
   * Graceful shutdown: readiness turns 503, after shutdownDelayMs the listeners stop
   * accepting, in-flight requests get up to drainTimeoutMs to finish, then the rest is
   * cut and discovery, peer clients and sources are closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doStart(): Promise<void> {
    const { config } = this;
    await pinTickObjectMaps();
    if (this.listens) {
      await listen(this.peerServer, config.port, config.bind, 'peer');
      await listen(this.httpServer, config.httpPort, config.bind, 'http');
    }
    this.peerTls?.start();
    this.discovery.start((peers) => this.ring.set(...peers));
    await this.discovery.ready;
    this.idleGc?.start();
    this.logger.info(
      {
        peerPort: this.listens ? this.peerAddress.port : 'mounted',
        httpPort: this.listens ? this.httpAddress.port : 'mounted',
        bind: config.bind,
        discovery: config.discovery,
        groups: config.groups.map((group) => describeGroup(group, this.getters.has(group.name))),
        invalidation: config.adminToken ? 'on' : 'off (no GEECACHE_ADMIN_TOKEN)',
        peerToken: config.peerToken ? 'on' : 'off',
        peerTls: config.peerTlsDir ? 'mutual' : 'off',
        idleGc: this.idleGc === undefined ? 'off' : this.idleGc.available ? 'on' : 'off (node was started without --expose-gc)',
      },
      'geecache started',
    );
    if (!config.peerToken) {
      this.logger.warn(
        'no GEECACHE_PEER_TOKEN: anyone who reaches the peer port can peek, and hand values over or invalidate as a peer could (peer invalidations carry the admin token); set one unless the ring has Go groupcache peers',
      );
    }
  }

  private async doClose(): Promise<void> {
    this.draining = true;
    this.drain.refuseKeepAlive();
    this.idleGc?.close();
    this.peerTls?.close();
    const { shutdownDelayMs, drainTimeoutMs } = this.config;
    this.logger.info({ connections: this.drain.connections, shutdownDelayMs, drainTimeoutMs }, 'shutting down: readiness now 503');
    // The cache is handed over at once, beside the shutdown delay and the drain: the next owners take
    // the values even before their rings drop this pod, and meanwhile it still answers their peeks.
    const handingOff = this.handOff();
    if (shutdownDelayMs > 0) await sleep(shutdownDelayMs);
    const [cut] = await Promise.all([this.drain.drain(drainTimeoutMs), handingOff]);
    if (cut > 0) this.logger.warn({ connections: cut }, 'drain timeout: closed the remaining connections');
    // Every client has its answer or is gone: a load started now would be for nobody.
    this.groups.stopLoads();
    // What is still in flight (a slow source, a peer's answer) is for clients that are gone: it gets
    // half a second, then is aborted, so the exit stays within the drain timeout plus about a second.
    const closed = Promise.allSettled([this.discovery.close(), this.ring.close(), ...this.sources.map((source) => source.close())]);
    if (!(await Promise.race([closed.then(() => true), sleep(CLOSE_GRACE_MS).then(() => false)]))) {
      this.logger.warn({ graceMs: CLOSE_GRACE_MS }, 'requests to peers or sources still in flight: aborting them');
      await Promise.allSettled([this.ring.close(true), ...this.sources.map((source) => source.destroy())]);
    }
    this.logger.info('shut down');
  }

  private makeGetter(group: GroupConfig): Getter {
    const { config, logger } = this;
    const inCode = this.getters.get(group.name);
    if (inCode) return inCode;
    if (group.source.kind === 'demo') {
      const sourceLog = logger.child({ source: 'demo', group: group.name });
      return demoSource({ latencyMs: config.demoLatencyMs, onLookup: (key) => sourceLog.info({ key }, '[SlowDB] search key') });
    }
    const origin = httpOriginSource({
      origin: group.source.origin,
      timeoutMs: config.sourceTimeoutMs,
      concurrency: config.originConcurrency,
      queue: config.originQueue,
    });
    this.sources.push(origin);
    this.originLoads.push({ group: group.name, limiter: origin.limiter });
    return origin.getter;
  }

  private makeDiscovery(): Discovery {
    const { config, logger } = this;
    if (config.discovery === 'static') return new StaticDiscovery({ peers: config.peers, self: config.self });
    return new WorkerDiscovery({
      settings: {
        kubeconfig: config.kubeconfig,
        inCluster: config.inCluster,
        namespace: config.namespace,
        service: config.service!,
        self: config.self,
        portName: config.peerPortName,
        debounceMs: config.discoveryDebounceMs,
        logLevel: logger.level,
        logFormat: config.logFormat,
        logBase: { self: config.self },
      },
      logger,
      // Within the shutdown's close grace: the worker is terminated if it has not stopped by then.
      closeTimeoutMs: CLOSE_GRACE_MS,
      onError: () => this.metrics.discoveryErrors.inc(),
      onRestart: (reason) => this.metrics.discoveryRestarts.inc({ reason }),
    });
  }
}

/** One line per group for the start-up log: name, bytes, freshness, source kind (never a URL's credentials). */
function describeGroup(group: GroupConfig, inCode: boolean): string {
  const freshness = [
    group.ttlMs > 0 ? `ttl ${group.ttlMs} ms` : '',
    group.staleWhileRevalidateMs > 0 ? `stale-while-revalidate ${group.staleWhileRevalidateMs} ms` : '',
    group.staleIfErrorMs > 0 ? `stale-if-error ${group.staleIfErrorMs} ms` : '',
  ].filter(Boolean);
  return [group.name, group.cacheBytes, ...freshness, inCode ? 'code' : group.source.kind].join(':');
}
