// peer-client.ts asks one peer for values over HTTP: keep-alive connections, a deadline on every request.
import { Pool, type Dispatcher } from 'undici';
import type { ClosablePeerGetter, PeerTraffic } from '../engine/peers.js';
import { NotFoundError, PeerRefusedError, PeerUnavailableError, SourceError } from '../errors.js';
import { BATCH_CONTENT_TYPE, batchPath, encodeKeys, FrameReader, MAX_BATCH_KEYS } from '../protocol/batch.js';
import { decodeGetResponse, peerPath, DEFAULT_BASE_PATH } from '../protocol/get.js';
import { describeNetworkError, fetchBytes } from './fetch-bytes.js';

export interface HttpPeerClientOptions {
  /** The peer's base URL, e.g. http://10.0.0.2:8001. */
  url: string;
  /** Default '/_geecache/'. */
  basePath?: string;
  /** Deadline for each phase of a request: connecting, the response headers, each gap in the body. Default 2000 ms. */
  timeoutMs?: number;
  /** Keep-alive connections to this peer at most. Default 32. */
  connections?: number;
  /** Largest response body accepted (a batch's body counts as one). Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * Send the keys asked for in the same turn of the event loop as one batch (batch-protocol.ts).
   * A key asked for alone still goes as a single GET; a peer that does not answer batches gets
   * single GETs from then on. Default true.
   */
  batch?: boolean;
  /** Counts this client's requests; pass one object to every client to count a process's peer traffic. */
  traffic?: PeerTraffic;
}

interface Waiting {
  key: string;
  resolve: (value: Uint8Array) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

/** Talks to one peer with undici's Pool, which served about 1.8x the requests/s of http.Agent (docs/performance.md). */
export class HttpPeerClient implements ClosablePeerGetter {
  readonly url: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  /** Keep-alive connections to the peer. */
  private readonly connections: Pool;
  private closing: Promise<void> | undefined;
  private batching: boolean;
  private readonly traffic: PeerTraffic;
  /** Keys asked for in this turn of the event loop, by group; sent by flush() in setImmediate. */
  private queued = new Map<string, Waiting[]>();
  private flushScheduled = false;

  constructor(options: HttpPeerClientOptions) {
    this.url = options.url;
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.batching = options.batch ?? true;
    this.traffic = options.traffic ?? { gets: 0, batches: 0, batchedKeys: 0 };
    this.connections = new Pool(options.url, {
      connections: options.connections ?? 32,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  get(group: string, key: string, signal?: AbortSignal): Promise<Uint8Array> {
    // A caller's abort signal needs a request of its own to abort.
    if (!this.batching || signal) return this.getOne(group, key, signal);
    return new Promise((resolve, reject) => {
      let waiting = this.queued.get(group);
      if (!waiting) this.queued.set(group, (waiting = []));
      waiting.push({ key, resolve, reject, settled: false });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the poll phase, so every request read from the sockets in this
        // turn has asked by then: under load one peer request carries many keys (bench/: peer-hop).
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

  /** One POST for many keys; each key's promise settles as its frame arrives. */
  private getBatch(group: string, waiting: Waiting[]): void {
    const reader = new FrameReader();
    let status = 0;
    let isBatch = false;
    let total = 0;
    const settle = (one: Waiting | undefined, outcome: () => Uint8Array): void => {
      if (!one || one.settled) return;
      one.settled = true;
      try {
        one.resolve(outcome());
      } catch (err) {
        one.reject(err);
      }
    };
    const failAll = (err: unknown): void => {
      const error = this.unavailable(err);
      for (const one of waiting) settle(one, () => { throw error; });
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => {},
      onResponseStart: (_controller, statusCode, headers) => {
        status = statusCode;
        isBatch = statusCode === 200 && headers['content-type'] === BATCH_CONTENT_TYPE;
      },
      onResponseData: (controller, chunk) => {
        total += chunk.byteLength;
        if (total > this.maxResponseBytes) return controller.abort(new Error(`response larger than ${this.maxResponseBytes} bytes`));
        if (!isBatch) return; // the answer of a peer that does not batch: only its status matters
        for (const frame of reader.push(chunk)) {
          settle(waiting[frame.index], () => this.valueOrThrow(frame.status, frame.bytes));
        }
      },
      onResponseEnd: () => {
        if (!isBatch) {
          // Not a peer that answers batches (405 from an older pod, an error from a Go peer):
          // ask for each key alone. A 404 is about the group, which single GETs will say too.
          if (status !== 404) this.batching = false;
          for (const one of waiting) this.getOne(group, one.key).then(one.resolve, one.reject);
          return;
        }
        const error = new PeerUnavailableError(this.url, `peer ${this.url} ended a batch without answering every key`);
        for (const one of waiting) settle(one, () => { throw error; });
      },
      onResponseError: (_controller, err) => failAll(err),
    };
    this.traffic.batches++;
    this.traffic.batchedKeys += waiting.length;
    try {
      this.connections.dispatch(
        {
          method: 'POST',
          path: batchPath(this.basePath, group),
          headers: { 'content-type': BATCH_CONTENT_TYPE },
          body: encodeKeys(waiting.map((one) => one.key)),
        },
        handler,
      );
    } catch (err) {
      // dispatch throws once the connections are closed; this runs in setImmediate, where a throw would end the process.
      failAll(err);
    }
  }

  /** A single GET for one key. */
  private async getOne(group: string, key: string, signal?: AbortSignal): Promise<Uint8Array> {
    let status: number;
    let body: Buffer;
    this.traffic.gets++;
    try {
      // undici's own connect, headers and body timeouts bound the request; they run on its
      // shared coarse timer. AbortSignal.timeout + AbortSignal.any per request cost the
      // peer hop a good part of its throughput on Node 20 (bench/).
      ({ status, body } = await fetchBytes(this.connections, peerPath(this.basePath, group, key), this.maxResponseBytes, signal));
    } catch (err) {
      throw this.unavailable(err);
    }
    if (status === 200) {
      try {
        return decodeGetResponse(body).value;
      } catch (err) {
        throw new PeerUnavailableError(this.url, `peer ${this.url} sent a malformed GetResponse`, { cause: err, status });
      }
    }
    return this.valueOrThrow(status, body);
  }

  /** A request that got no answer (refused, reset, timed out, closed client), as the caller's fallback signal. */
  private unavailable(err: unknown): PeerUnavailableError {
    return new PeerUnavailableError(this.url, `peer ${this.url} unavailable: ${describeNetworkError(err, this.timeoutMs)}`, { cause: err });
  }

  /** The value of a 200 (already decoded), or the error a status stands for. */
  private valueOrThrow(status: number, body: Buffer): Uint8Array {
    if (status === 200) return body;
    const message = body.toString('utf8').trim() || `status ${status}`;
    // 404 and 502/504 are the owner's verdict on the key, and any other 4xx its verdict on our request;
    // the rest (500, 503 while draining, a Go peer's generic 500) means the owner could not answer, so
    // the caller may load locally.
    if (status === 404) throw new NotFoundError(message);
    if (status === 502 || status === 504) throw new SourceError(message, { status });
    if (status >= 400 && status < 500) throw new PeerRefusedError(this.url, status, `peer ${this.url} refused the request (${status}): ${message}`);
    throw new PeerUnavailableError(this.url, `peer ${this.url} answered ${status}: ${message}`, { status });
  }

  /** Lets in-flight requests finish, then closes the connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.connections.close();
    return this.closing;
  }

  /** Aborts in-flight requests and closes at once. */
  destroy(): Promise<void> {
    return this.connections.destroy();
  }
}
