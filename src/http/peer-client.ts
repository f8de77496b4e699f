// peer-client.ts asks one peer for values over HTTP: keep-alive connections, batches, a deadline on every
// request that only a sign of life from the peer extends, and a circuit breaker for a peer that stays silent.
import { Pool, type Dispatcher } from 'undici';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '../engine/circuit-breaker.js';
import type { ClosablePeerGetter, HandedValue, PeerTraffic, PeerValue } from '../engine/peers.js';
import { NotFoundError, PeerRefusedError, PeerUnavailableError, SourceError } from '../errors.js';
import { BATCH_CONTENT_TYPE, batchPath, encodeKeys, FrameReader, MAX_BATCH_KEYS, META_FORMAT, META_HEADER, splitValueFrame } from '../protocol/batch.js';
import { decodeGetResponse, HEARTBEAT_HEADER, peerPath, DEFAULT_BASE_PATH } from '../protocol/get.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE, HANDOFF_SEGMENT, HANDOFF_SENDER_HEADER, PEEK_SEGMENT } from '../protocol/handoff.js';
import { describeNetworkError } from './fetch-bytes.js';

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
  /** Sent as the bearer token of invalidations (GEECACHE_ADMIN_TOKEN); without one, invalidate() fails. */
  adminToken?: string;
  /** How long a peek may take before the key is loaded instead. Default 50 ms. */
  peekTimeoutMs?: number;
  /** This process's own peer URL, which a handoff names its sender by. */
  self?: string;
  /** Sent as the bearer token of handoffs (GEECACHE_PEER_TOKEN), when the ring has one. */
  peerToken?: string;
  /**
   * The address requests leave from. A handoff is taken only from the address its sender's peer URL
   * names, so a process bound to one address of several sends from it too. Default: the system's choice.
   */
  localAddress?: string;
}

interface Waiting {
  key: string;
  resolve: (value: PeerValue) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

/** One HTTP request to the peer, a GET or a batch, from the moment it is asked for until undici is done with it. */
interface Exchange {
  /** Hands the request to undici; called once a connection slot is free. */
  send(exchange: Exchange): void;
  /** Fails the callers that have no answer yet. */
  fail(err: unknown): void;
  /** No sign of life for timeoutMs: fails the callers and aborts the request. */
  timer: NodeJS.Timeout | undefined;
  controller: Dispatcher.DispatchController | undefined;
  /** The callers have their answer (or error); what undici still reports is ignored. */
  done: boolean;
  /** Holds one of the `connections` slots until undici reports its end. */
  sent: boolean;
}

/** A client error's code is 'UND_ERR_...'; ours says what the deadline saw. */
class SilentPeerError extends Error {
  readonly code = 'ERR_PEER_SILENT';
}

/** Talks to one peer with undici's Pool, which served about 1.8x the requests/s of http.Agent (docs/performance.md). */
export class HttpPeerClient implements ClosablePeerGetter {
  readonly url: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxInFlight: number;
  /** Keep-alive connections to the peer. */
  private readonly connections: Pool;
  private readonly breaker: CircuitBreaker;
  private readonly now: () => number;
  /** Sent with every request: a geecache owner answers with heartbeats at this interval while it works. */
  private readonly heartbeatHeaders: string[];
  private readonly adminToken: string | undefined;
  private readonly peekTimeoutMs: number;
  private readonly self: string | undefined;
  private readonly peerToken: string | undefined;
  /** Set once the peer answered a handoff request as a peer without handoff would (a Go groupcache peer): it is sent no more. */
  private noHandoff = false;
  private closing: Promise<void> | undefined;
  private batching: boolean;
  private readonly traffic: PeerTraffic;
  /** Keys asked for in this turn of the event loop, by group; sent by flush() in setImmediate. */
  private queued = new Map<string, Waiting[]>();
  private flushScheduled = false;
  private inFlight = 0;
  /** Exchanges waiting for a slot, oldest first; their deadline already runs. */
  private readonly waitingForSlot: Exchange[] = [];
  /** The breaker's trips already added to traffic.circuitTrips. */
  private tripsSeen = 0;
  /** When the peer last showed a sign of life on any exchange (now()'s clock). */
  private lastSignOfLife = -Infinity;

  constructor(options: HttpPeerClientOptions) {
    this.url = options.url;
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.maxInFlight = options.connections ?? 32;
    this.batching = options.batch ?? true;
    this.traffic = options.traffic ?? { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
    this.breaker = new CircuitBreaker(options.circuit);
    this.now = options.now ?? (() => performance.now());
    // A third of the timeout: two heartbeats may be late before the deadline passes.
    this.heartbeatHeaders = [HEARTBEAT_HEADER, String(Math.max(10, Math.floor(this.timeoutMs / 3)))];
    this.adminToken = options.adminToken;
    this.peekTimeoutMs = options.peekTimeoutMs ?? 50;
    this.self = options.self;
    this.peerToken = options.peerToken;
    this.connections = new Pool(options.url, {
      connections: this.maxInFlight,
      connectTimeout: this.timeoutMs,
      // The exchange's own deadline bounds every phase (undici's run on a 500 ms tick and restart per phase).
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 30_000,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
  }

  /** Whether requests go to the peer (closed), none do (open), or one probe may (half-open). */
  get circuit(): CircuitState {
    return this.breaker.state;
  }

  get(group: string, key: string, signal?: AbortSignal): Promise<PeerValue> {
    // A caller's abort signal needs a request of its own to abort.
    if (!this.batching || signal) return this.getOne(group, key, signal);
    return new Promise((resolve, reject) => {
      let waiting = this.queued.get(group);
      if (!waiting) this.queued.set(group, (waiting = []));
      waiting.push({ key, resolve, reject, settled: false });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the poll phase, so every request read from the sockets in this
        // turn has asked by then: under load one peer request carries many keys (docs/performance.md).
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = new Map();
    for (const [group, waiting] of queued) {
      if (waiting.length === 1 || !this.batching) {
        for (const one of waiting) this.getOne(group, one.key).then(one.resolve, one.reject);
        continue;
      }
      for (let i = 0; i < waiting.length; i += MAX_BATCH_KEYS) this.getBatch(group, waiting.slice(i, i + MAX_BATCH_KEYS));
    }
  };

  // ---- exchanges: deadline, circuit breaker, connection slots ---------------------------------

  /** Starts an exchange's deadline and sends it, now or when a slot frees; or fails it at once while the circuit is open. */
  private start(exchange: Exchange): void {
    if (this.closing || !this.breaker.allow(this.now())) {
      exchange.done = true;
      exchange.fail(this.closing ? new Error('client closed') : this.circuitOpen());
      return;
    }
    exchange.timer = setTimeout(() => this.expire(exchange), this.timeoutMs).unref();
    if (this.inFlight < this.maxInFlight) this.send(exchange);
    else this.waitingForSlot.push(exchange);
  }

  private send(exchange: Exchange): void {
    this.inFlight++;
    exchange.sent = true;
    // The wait for a slot is over: from here on the deadline counts the peer's silence alone.
    exchange.timer?.refresh();
    try {
      exchange.send(exchange);
    } catch (err) {
      // dispatch throws once the connections are closed; this may run in setImmediate, where a throw would end the process.
      this.ended(exchange, err);
    }
  }

  /** No sign of life from the peer for timeoutMs, wherever the exchange was: waiting for a slot, connecting, or sent. */
  private expire(exchange: Exchange): void {
    if (exchange.done) return;
    // Still waiting for a slot while the requests holding the slots hear from the peer: the peer is
    // busy (a slow source), not gone, and this one waits on. A silent peer fails it, queued or not.
    if (!exchange.sent && this.now() - this.lastSignOfLife < this.timeoutMs) {
      exchange.timer?.refresh();
      return;
    }
    exchange.done = true;
    this.breaker.silent(this.now());
    this.countTrip();
    const err = new SilentPeerError(`timed out after ${this.timeoutMs} ms without a sign of life`);
    exchange.fail(err);
    // Not yet on a socket: request handlers abort it as soon as undici hands them the controller.
    exchange.controller?.abort(err);
  }

  /** A sign of life (a heartbeat, the response's start, body bytes): the deadline starts again. */
  private alive(exchange: Exchange): void {
    exchange.timer?.refresh();
    this.lastSignOfLife = this.now();
  }

  /** undici is done with the exchange (answered, failed or aborted): its slot goes to the next one waiting. */
  private ended(exchange: Exchange, err?: unknown): void {
    clearTimeout(exchange.timer);
    if (!exchange.done) {
      exchange.done = true;
      if (err !== undefined) {
        this.breaker.silent(this.now());
        this.countTrip();
        exchange.fail(err);
      }
    }
    if (!exchange.sent) return;
    exchange.sent = false;
    this.inFlight--;
    // A silent peer gets no more requests from the queue: they fail at their own deadline.
    if (this.now() - this.lastSignOfLife >= this.timeoutMs) return;
    while (this.waitingForSlot.length > 0 && this.inFlight < this.maxInFlight) {
      const next = this.waitingForSlot.shift()!;
      if (!next.done) this.send(next);
    }
  }

  /** Adds the breaker's new trips to the shared count. */
  private countTrip(): void {
    this.traffic.circuitTrips += this.breaker.trips - this.tripsSeen;
    this.tripsSeen = this.breaker.trips;
  }

  private circuitOpen(): Error {
    return new Error('circuit open: it did not answer the last requests, and is probed again shortly');
  }

  /** Handler parts every exchange shares: the controller, aborting an exchange that expired before it reached a socket. */
  private requestStart(exchange: Exchange, controller: Dispatcher.DispatchController): void {
    exchange.controller = controller;
    if (exchange.done) controller.abort(new SilentPeerError('expired before it was sent'));
  }

  // ---- a batch and a single GET --------------------------------------------------------------

  /** One POST for many keys; each key's promise settles as its frame arrives. */
  private getBatch(group: string, waiting: Waiting[]): void {
    const reader = new FrameReader();
    let status = 0;
    let isBatch = false;
    let withMeta = false;
    let total = 0;
    const settle = (one: Waiting | undefined, outcome: () => PeerValue): void => {
      if (!one || one.settled) return;
      one.settled = true;
      try {
        one.resolve(outcome());
      } catch (err) {
        one.reject(err);
      }
    };
    const failWith = (error: unknown): void => {
      for (const one of waiting) settle(one, () => { throw error; });
    };
    const exchange: Exchange = {
      timer: undefined,
      controller: undefined,
      done: false,
      sent: false,
      fail: (err) => failWith(this.unavailable(err)),
      send: (self) => this.connections.dispatch(
        {
          method: 'POST',
          path: batchPath(this.basePath, group),
          headers: ['content-type', BATCH_CONTENT_TYPE, META_HEADER, META_FORMAT, ...this.heartbeatHeaders],
          body: encodeKeys(waiting.map((one) => one.key)),
        },
        handler(self),
      ),
    };
    const handler = (self: Exchange): Dispatcher.DispatchHandler => ({
      onRequestStart: (controller) => this.requestStart(self, controller),
      onResponseStart: (_controller, statusCode, headers) => {
        this.breaker.answered();
        this.alive(self);
        status = statusCode;
        isBatch = statusCode === 200 && headers['content-type'] === BATCH_CONTENT_TYPE;
        // An owner older than metadata in frames does not repeat the header and sends bare values.
        withMeta = headers[META_HEADER] === META_FORMAT;
      },
      onResponseData: (controller, chunk) => {
        this.alive(self);
        total += chunk.byteLength;
        if (total > this.maxResponseBytes) return controller.abort(new Error(`response larger than ${this.maxResponseBytes} bytes`));
        if (!isBatch || self.done) return; // the answer of a peer that does not batch: only its status matters
        // Heartbeat frames carry no key index the batch has: settle() skips them.
        for (const frame of reader.push(chunk)) {
          settle(waiting[frame.index], () => this.frameValue(frame.status, frame.bytes, withMeta));
        }
      },
      onResponseEnd: () => {
        const expired = self.done;
        this.ended(self);
        if (expired) return;
        if (!isBatch) {
          // Not a peer that answers batches (405 from an older pod, an error from a Go peer):
          // ask for each key alone. A 404 is about the group, which single GETs will say too.
          if (status !== 404) this.batching = false;
          for (const one of waiting) this.getOne(group, one.key).then(one.resolve, one.reject);
          return;
        }
        failWith(new PeerUnavailableError(this.url, `peer ${this.url} ended a batch without answering every key`));
      },
      onResponseError: (_controller, err) => this.ended(self, err),
    });
    this.traffic.batches++;
    this.traffic.batchedKeys += waiting.length;
    this.start(exchange);
  }

  /** A single GET for one key: groupcache's own request, which Go peers answer too. */
  private getOne(group: string, key: string, signal?: AbortSignal): Promise<PeerValue> {
    this.traffic.gets++;
    return new Promise((resolve, reject) => {
      let status = 0;
      let total = 0;
      const chunks: Buffer[] = [];
      let onAbort: (() => void) | undefined;
      const exchange: Exchange = {
        timer: undefined,
        controller: undefined,
        done: false,
        sent: false,
        fail: (err) => {
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          reject(this.unavailable(err));
        },
        send: (self) => this.connections.dispatch({ method: 'GET', path: peerPath(this.basePath, group, key), headers: this.heartbeatHeaders }, handler(self)),
      };
      const handler = (self: Exchange): Dispatcher.DispatchHandler => ({
        onRequestStart: (controller) => this.requestStart(self, controller),
        onResponseStart: (_controller, statusCode) => {
          // 1xx: the owner's heartbeat (102 Processing) while it loads the key.
          this.breaker.answered();
          this.alive(self);
          status = statusCode;
        },
        onResponseData: (controller, chunk) => {
          this.alive(self);
          total += chunk.length;
          if (total > this.maxResponseBytes) controller.abort(new Error(`response larger than ${this.maxResponseBytes} bytes`));
          else chunks.push(chunk);
        },
        onResponseEnd: () => {
          const expired = self.done;
          this.ended(self);
          if (expired) return;
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          try {
            resolve(this.answerOf(status, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
          } catch (err) {
            reject(err);
          }
        },
        onResponseError: (_controller, err) => this.ended(self, err),
      });
      if (signal) {
        if (signal.aborted) return reject(this.unavailable(signal.reason));
        onAbort = () => {
          if (exchange.done) return;
          exchange.done = true;
          reject(this.unavailable(signal.reason));
          exchange.controller?.abort(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.start(exchange);
    });
  }

  /** A single GET's value and expiry, or the error its status stands for. */
  private answerOf(status: number, body: Buffer): PeerValue {
    if (status !== 200) this.throwFor(status, body);
    try {
      return decodeGetResponse(body);
    } catch (err) {
      throw new PeerUnavailableError(this.url, `peer ${this.url} sent a malformed GetResponse`, { cause: err, status });
    }
  }

  /** A request that got no answer (refused, reset, timed out, closed client), as the caller's fallback signal. */
  private unavailable(err: unknown): PeerUnavailableError {
    return new PeerUnavailableError(this.url, `peer ${this.url} unavailable: ${describeNetworkError(err, this.timeoutMs)}`, { cause: err });
  }

  /** A batch frame's value and metadata, or the error its status stands for. */
  private frameValue(status: number, bytes: Buffer, withMeta: boolean): PeerValue {
    if (status !== 200) this.throwFor(status, bytes);
    if (!withMeta) return { value: bytes, expiresAt: 0 };
    const split = splitValueFrame(bytes);
    if (!split) throw new PeerUnavailableError(this.url, `peer ${this.url} sent a value frame too short for its metadata`);
    return split;
  }

  /** Throws the error an answer's status (not 200) stands for. */
  private throwFor(status: number, body: Buffer): never {
    const message = body.toString('utf8').trim() || `status ${status}`;
    // 404 and 502/504 are the owner's verdict on the key, and any other 4xx its verdict on our request;
    // the rest (500, 503 while draining, a Go peer's generic 500) means the owner could not answer, so
    // the caller may load locally.
    if (status === 404) throw new NotFoundError(message);
    if (status === 502 || status === 504) throw new SourceError(message, { status });
    if (status >= 400 && status < 500) throw new PeerRefusedError(this.url, status, `peer ${this.url} refused the request (${status}): ${message}`);
    throw new PeerUnavailableError(this.url, `peer ${this.url} answered ${status}: ${message}`, { status });
  }

  /**
   * DELETE <basePath><group>/<key> (or <group>/ for every key): the peer drops its copies and tells
   * nobody else. Only a geecache peer answers 204; a Go groupcache peer takes the DELETE for a GET.
   * Bounded by the peer timeout as a whole: the peer does no slow work for it.
   */
  async invalidate(group: string, key: string | undefined): Promise<void> {
    if (!this.adminToken) throw new Error('no admin token to send');
    const path = key === undefined ? batchPath(this.basePath, group) : peerPath(this.basePath, group, key);
    const { statusCode, body } = await this.exchangeOnce('DELETE', path, ['authorization', `Bearer ${this.adminToken}`], undefined, this.timeoutMs);
    if (statusCode === 204) return;
    if (statusCode === 200) throw new Error('not a geecache peer: it answered the DELETE as a get');
    const text = body.toString('utf8').trim();
    throw new Error(`answered ${statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  /**
   * GET <basePath>~peek/<group>/<key>: the peer's cached copy, or undefined (204). A 404 is a peer
   * that knows no peeks (a Go groupcache peer: "no such group"): undefined, and it is not asked again.
   */
  async peek(group: string, key: string): Promise<PeerValue | undefined> {
    if (this.noHandoff || this.closing) return undefined;
    const { statusCode, body } = await this.exchangeOnce('GET', peerPath(this.basePath + PEEK_SEGMENT, group, key), [], undefined, this.peekTimeoutMs);
    if (statusCode === 204) return undefined;
    if (statusCode === 200) {
      const { value, expiresAt } = decodeGetResponse(body);
      return { value, expiresAt };
    }
    if (statusCode === 404 || statusCode === 405) {
      this.noHandoff = true;
      return undefined;
    }
    throw new Error(`peek answered ${statusCode}: ${body.toString('utf8').trim().slice(0, 200)}`);
  }

  /** POST <basePath>~handoff/<group>/: the values this process hands over as it leaves; resolves to how many the peer stored. */
  async handOff(group: string, values: readonly HandedValue[]): Promise<number> {
    if (this.noHandoff) throw new Error('the peer takes no handoff');
    if (!this.self) throw new Error('no sender URL to name in a handoff');
    const headers = ['content-type', HANDOFF_CONTENT_TYPE, HANDOFF_SENDER_HEADER, this.self];
    if (this.peerToken) headers.push('authorization', `Bearer ${this.peerToken}`);
    const { statusCode, body } = await this.exchangeOnce('POST', batchPath(this.basePath + HANDOFF_SEGMENT, group), headers, encodeHandoff(values), this.timeoutMs);
    const text = body.toString('utf8').trim();
    if (statusCode === 200 && /^\d+$/.test(text)) return Number(text);
    if (statusCode === 404 || statusCode === 405) this.noHandoff = true;
    throw new Error(`handoff answered ${statusCode}: ${text.slice(0, 200)}`);
  }

  /** One request outside the batching and heartbeat machinery, bounded by `timeoutMs` as a whole. */
  private async exchangeOnce(method: 'GET' | 'POST' | 'DELETE', path: string, headers: string[], body: Buffer | undefined, timeoutMs: number): Promise<{ statusCode: number; body: Buffer }> {
    try {
      const answer = await this.connections.request({ method, path, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const bytes = Buffer.from(await answer.body.arrayBuffer());
      if (bytes.byteLength > this.maxResponseBytes) throw new Error(`response larger than ${this.maxResponseBytes} bytes`);
      return { statusCode: answer.statusCode, body: bytes };
    } catch (err) {
      throw new Error(describeNetworkError(err, timeoutMs), { cause: err });
    }
  }

  /** Lets in-flight requests finish, then closes the connections; new requests fail at once. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.connections.close();
    return this.closing;
  }

  /** Aborts in-flight requests and closes at once. */
  destroy(): Promise<void> {
    return this.connections.destroy();
  }
}
