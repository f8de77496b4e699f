// cache-node.ts is one cache process (a pod): groups, peer pool, discovery, both listeners, and graceful shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Discovery } from './discovery/discovery.js';
import { StaticDiscovery } from './discovery/static.js';
import { WorkerDiscovery } from './discovery/kubernetes/worker-discovery.js';
import { GroupRegistry, type GroupObserver } from './engine/group.js';
import { createApiHandler } from './http/api-handler.js';
import { createHttpApp } from './http/app.js';
import { expressMessageClasses, type MessageClasses } from './http/message-classes.js';
import { HttpPeerClient, type PeerTraffic } from './http/peer-client.js';
import { createPeerHandler, sendText } from './http/peer-handler.js';
import { IdleGc } from './memory/idle-gc.js';
import { createMetrics, type CacheMetrics } from './ops/metrics.js';
import { PeerPool } from './engine/peer-ring.js';
import { SlabArena } from './memory/slab.js';
import { demoSource } from './sources/demo.js';
import { httpOriginSource } from './sources/http-origin.js';

export interface CacheNodeOptions {
  config: Config;
  logger: Logger;
  /** Overrides the discovery the config describes (tests). */
  discovery?: Discovery;
  /** Collect prom-client's default process metrics. Default true. */
  defaultMetrics?: boolean;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export class CacheNode {
  readonly config: Config;
  readonly registry: GroupRegistry;
  readonly pool: PeerPool;
  readonly metrics: CacheMetrics;
  readonly discovery: Discovery;
  private readonly logger: Logger;
  /** Serves the peer protocol. */
  readonly peerServer: Server;
  /** Serves the API, metrics, health and debug routes. */
  readonly httpServer: Server;
  /** Frees emptied value slabs once eviction stops (config.idleGc). */
  readonly idleGc: IdleGc | undefined;
  private readonly closers: Array<() => Promise<void>> = [];
  /** Open client connections of both servers, so a shutdown can ask busy ones to close. */
  private readonly sockets = new Set<Socket>();
  private draining = false;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: CacheNodeOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    // One set of counters for every peer client, so peers that leave keep their share of the totals.
    const peerTraffic: PeerTraffic = { gets: 0, batches: 0, batchedKeys: 0 };
    this.pool = new PeerPool({
      self: config.self,
      replicas: config.replicas,
      createClient: (url) =>
        new HttpPeerClient({ url, basePath: config.basePath, timeoutMs: config.peerTimeoutMs, batch: config.peerBatch, traffic: peerTraffic }),
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
    this.registry = new GroupRegistry({ peers: this.pool, observer, hotCache: config.hotCache });
    for (const group of config.groups) {
      let getter;
      if (group.source.kind === 'demo') {
        const sourceLog = logger.child({ source: 'demo', group: group.name });
        getter = demoSource({ latencyMs: config.demoLatencyMs, onLookup: (key) => sourceLog.info({ key }, '[SlowDB] search key') });
      } else {
        const origin = httpOriginSource({ origin: group.source.origin, timeoutMs: config.sourceTimeoutMs });
        this.closers.push(origin.close);
        getter = origin.getter;
      }
      this.registry.create({ name: group.name, cacheBytes: group.cacheBytes, getter });
    }
    const metrics = createMetrics(this.registry, this.pool, { defaultMetrics: options.defaultMetrics, peerTraffic });
    this.metrics = metrics;
    this.idleGc = config.idleGc ? new IdleGc({ arena: SlabArena.shared, logger }) : undefined;
    this.discovery = options.discovery ?? this.makeDiscovery();

    const api = createApiHandler({ registry: this.registry, metrics, logger, pool: this.pool });
    const httpApp = createHttpApp({ api, metrics, pool: this.pool, logger, notReadyReason: () => this.notReadyReason() });
    const peerHandler = createPeerHandler({
      registry: this.registry,
      basePath: config.basePath,
      onUnexpectedError: (err, req) => logger.error({ err, url: req.url }, 'unexpected error answering a peer'),
    });
    const fast = config.hotPath === 'fast';
    const classes = expressMessageClasses(httpApp);
    // The two hot routes skip Express's routing when hotPath is fast (see bench/); the rest goes through Express.
    this.peerServer = this.makeServer(classes, (req, res) => {
      if (req.url?.startsWith(config.basePath)) peerHandler(req, res);
      // Not through a second Express app: it would re-parent requests to its own prototypes (message-classes.ts).
      else sendText(res, 404, `no route for ${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`);
    });
    this.httpServer = this.makeServer(
      classes,
      fast
        ? (req, res) => {
            const url = req.url ?? '';
            if (url === '/api' || url.startsWith('/api?')) api(req, res);
            else httpApp(req, res);
          }
        : httpApp,
    );
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
    await listen(this.peerServer, config.port, config.bind, 'peer');
    await listen(this.httpServer, config.httpPort, config.bind, 'http');
    this.discovery.start((peers) => this.pool.set(...peers));
    await this.discovery.ready;
    this.idleGc?.start();
    this.logger.info(
      {
        self: config.self,
        peerPort: this.peerAddress.port,
        httpPort: this.httpAddress.port,
        bind: config.bind,
        discovery: config.discovery,
        groups: config.groups.map((g) => `${g.name}:${g.cacheBytes}:${g.source.kind}`),
        idleGc: this.idleGc === undefined ? 'off' : this.idleGc.available ? 'on' : 'off (node was started without --expose-gc)',
      },
      'geecache started',
    );
  }

  private async doClose(): Promise<void> {
    this.draining = true;
    // From here on every answer tells its keep-alive client to go elsewhere. A listener run before
    // the handler, added only now, keeps that check off the path of every request before shutdown.
    for (const server of [this.peerServer, this.httpServer]) {
      server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close'));
    }
    this.idleGc?.close();
    const { shutdownDelayMs, drainTimeoutMs } = this.config;
    this.logger.info({ connections: this.sockets.size, shutdownDelayMs, drainTimeoutMs }, 'shutting down: readiness now 503');
    if (shutdownDelayMs > 0) await sleep(shutdownDelayMs);
    // Answers still being worked on tell their keep-alive clients to go elsewhere.
    for (const socket of this.sockets) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
      if (res && !res.headersSent) res.setHeader('connection', 'close');
    }
    const closed = Promise.all([closeServer(this.peerServer), closeServer(this.httpServer)]);
    // Connections that go idle after their last answer would hold close() open: close them as they do.
    const sweeper = setInterval(() => {
      this.peerServer.closeIdleConnections();
      this.httpServer.closeIdleConnections();
    }, 20);
    const drained = await Promise.race([closed.then(() => true), sleep(drainTimeoutMs).then(() => false)]);
    clearInterval(sweeper);
    if (!drained) {
      this.logger.warn({ connections: this.sockets.size }, 'drain timeout: closing remaining connections');
      this.peerServer.closeAllConnections();
      this.httpServer.closeAllConnections();
      await closed;
    }
    await this.discovery.close();
    await this.pool.close();
    await Promise.allSettled(this.closers.map((close) => close()));
    this.logger.info('shut down');
  }

  private makeServer(classes: MessageClasses, listener: Listener): Server {
    // The listener is the server's only 'request' handler, with nothing wrapped around it (see doClose).
    const server: Server = createServer({ ...classes, keepAliveTimeout: 65_000, requestTimeout: 30_000 }, listener);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    return server;
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
      onError: () => this.metrics.discoveryErrors.inc(),
      onRestart: (reason) => this.metrics.discoveryRestarts.inc({ reason }),
    });
  }
}

function listen(server: Server, port: number, host: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port} (${name} port): ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
