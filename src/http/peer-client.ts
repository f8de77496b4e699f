// peer-client.ts asks one peer for values over HTTP, composing peer-client/: gets go single or batched
// (batch-queue, single-get, batch-get) as exchanges with a deadline and a circuit breaker (exchange);
// invalidations, peeks and handoffs go on their own (admin-requests).
import { Pool, type buildConnector } from 'undici';
import type { CircuitBreakerOptions, CircuitState } from '../engine/circuit-breaker.js';
import type { ClosablePeerGetter, HandedValue, PeerTraffic, PeerValue } from '../engine/peers.js';
import type { Flight } from '../engine/singleflight.js';
import { DEFAULT_BASE_PATH, HEARTBEAT_HEADER } from '../protocol/get.js';
import { AdminRequests } from './peer-client/admin-requests.js';
import { getBatch } from './peer-client/batch-get.js';
import { BatchQueue } from './peer-client/batch-queue.js';
import { ExchangeScheduler, type PeerLink } from './peer-client/exchange.js';
import { getOne } from './peer-client/single-get.js';

export interface HttpPeerClientOptions {
  /** The peer's base URL, e.g. http://10.0.0.2:8001. */
  url: string;
  /** Default '/_geecache/'. */
  basePath?: string;
  /**
   * How long a request may go without a sign of life from the peer, waiting for a connection
   * included: no answer, no heartbeat, no body bytes. A geecache owner that is loading the key
   * sends heartbeats, so a slow source is waited for; a silent peer costs this long. Default 2000 ms.
   */
  timeoutMs?: number;
  /** Requests in flight to this peer at most, one connection each; the rest wait their turn. Default 32. */
  connections?: number;
  /** Largest response body accepted (a batch's body counts as one). Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * Send the keys asked for in the same turn of the event loop as one batch (protocol/batch.ts).
   * A key asked for alone still goes as a single GET; a peer that does not answer batches gets
   * single GETs from then on. Default true.
   */
  batch?: boolean;
  /** Counts this client's requests; pass one object to every client to count a process's peer traffic. */
  traffic?: PeerTraffic;
  /** When to stop asking a silent peer (see CircuitBreaker). */
  circuit?: CircuitBreakerOptions;
  /** Monotonic clock in ms, for the circuit breaker. Default performance.now. */
  now?: () => number;
  /** Sent as the bearer token of invalidations (GEECACHE_ADMIN_TOKEN) when there is no peer token; without either, invalidate() fails. */
  adminToken?: string;
  /** How long a peek may take before the key is loaded instead. Default 50 ms. */
  peekTimeoutMs?: number;
  /** This process's own peer URL, which a handoff names its sender by. */
  self?: string;
  /** Sent as the bearer token of peeks, handoffs and invalidations (GEECACHE_PEER_TOKEN), when the ring has one. */
  peerToken?: string;
  /**
   * The address requests leave from. A handoff is taken only from the address its sender's peer URL
   * names, so a process bound to one address of several sends from it too. Default: the system's choice.
   */
  localAddress?: string;
  /**
   * Opens connections to the peer instead of undici's own connector: an https:// peer's mutual TLS
   * (PeerTls.connector), which bounds the connect itself. Default: undici's, with timeoutMs.
   */
  connect?: buildConnector.connector;
}

/** Talks to one peer with undici's Pool, which served about 1.8x the requests/s of http.Agent (docs/performance.md). */
export class HttpPeerClient implements ClosablePeerGetter {
  readonly url: string;
  private readonly link: PeerLink;
  private readonly queue: BatchQueue;
  private readonly admin: AdminRequests;
  private closing: Promise<void> | undefined;

  constructor(options: HttpPeerClientOptions) {
    this.url = options.url;
    const basePath = options.basePath ?? DEFAULT_BASE_PATH;
    const timeoutMs = options.timeoutMs ?? 2000;
    const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    const slots = options.connections ?? 32;
    const traffic = options.traffic ?? { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
    const connections = new Pool(options.url, {
      connections: slots,
      ...(options.connect ? { connect: options.connect } : { connectTimeout: timeoutMs }),
      // The exchange's own deadline bounds every phase (undici's run on a 500 ms tick and restart per phase).
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 30_000,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.link = {
      url: options.url,
      basePath,
      connections,
      exchanges: new ExchangeScheduler({ timeoutMs, slots, traffic, circuit: options.circuit, now: options.now ?? (() => performance.now()) }),
      traffic,
      timeoutMs,
      maxResponseBytes,
      // A third of the timeout: two heartbeats may be late before the deadline passes.
      heartbeatHeaders: [HEARTBEAT_HEADER, String(Math.max(10, Math.floor(timeoutMs / 3)))],
    };
    const one = (group: string, key: string) => getOne(this.link, group, key);
    const notBatching = { one, stopBatching: () => void (this.queue.batching = false) };
    this.queue = new BatchQueue({ one, batch: (group, waiting) => getBatch(this.link, group, waiting, notBatching) }, options.batch ?? true);
    this.admin = new AdminRequests({
      url: options.url,
      basePath,
      connections,
      timeoutMs,
      peekTimeoutMs: options.peekTimeoutMs ?? 50,
      maxResponseBytes,
      adminToken: options.adminToken,
      self: options.self,
      peerToken: options.peerToken,
    });
  }

  /** Whether requests go to the peer (closed), none do (open), or one probe may (half-open). */
  get circuit(): CircuitState {
    return this.link.exchanges.circuit;
  }

  get(group: string, key: string, flight?: Pick<Flight, 'signal'>): Promise<PeerValue> {
    if (!this.queue.batching) return getOne(this.link, group, key, flight?.signal);
    // A batch is shared by other keys and cannot be aborted for one, so the flight's signal goes
    // unread: its callers have already stopped waiting when it aborts (singleflight.ts), and the
    // answer, bounded by the peer timeout, only ends the flight.
    return this.queue.enqueue(group, key);
  }

  /** DELETE of a key (or, without one, a group) on the peer alone; see AdminRequests.invalidate. */
  invalidate(group: string, key: string | undefined): Promise<void> {
    return this.admin.invalidate(group, key);
  }

  /** Stores a value on the peer alone, its owner; see AdminRequests.set. */
  set(group: string, key: string, value: Uint8Array, options: { ttlMs?: number } = {}): Promise<void> {
    return this.admin.set(group, key, value, options.ttlMs ?? 0);
  }

  /** The peer's cached copy of `key`, or undefined; see AdminRequests.peek. */
  async peek(group: string, key: string): Promise<PeerValue | undefined> {
    if (this.closing) return undefined;
    return this.admin.peek(group, key);
  }

  /** Hands `values` to the peer as this process leaves; resolves to how many it stored. */
  handOff(group: string, values: readonly HandedValue[]): Promise<number> {
    return this.admin.handOff(group, values);
  }

  /** Lets in-flight requests finish, then closes the connections; new requests fail at once. Idempotent. */
  close(): Promise<void> {
    this.link.exchanges.close();
    this.closing ??= this.link.connections.close();
    return this.closing;
  }

  /** Aborts in-flight requests and closes at once. */
  destroy(): Promise<void> {
    return this.link.connections.destroy();
  }
}
