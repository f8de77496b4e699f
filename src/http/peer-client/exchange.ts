// exchange.ts schedules the requests to one peer: a deadline that only a sign of life from the peer
// extends, a slot among the peer's connections, and the circuit breaker that stops asking a silent peer.
import type { Dispatcher, Pool } from 'undici';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '../../engine/circuit-breaker.js';
import type { PeerTraffic } from '../../engine/peers.js';
import { CircuitOpenError, ClientClosedError, SilentPeerError } from '../../errors.js';

/** One HTTP request to the peer, a GET or a batch, from the moment it is asked for until undici is done with it. */
export interface Exchange {
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

/** An exchange not yet started. */
export function newExchange(send: Exchange['send'], fail: Exchange['fail']): Exchange {
  return { send, fail, timer: undefined, controller: undefined, done: false, sent: false };
}

/** What the GET and batch readers share about their peer. */
export interface PeerLink {
  readonly url: string;
  readonly basePath: string;
  /** Keep-alive connections to the peer. */
  readonly connections: Pool;
  readonly exchanges: ExchangeScheduler;
  readonly traffic: PeerTraffic;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Sent with every request: a geecache owner answers with heartbeats at this interval while it works. */
  readonly heartbeatHeaders: string[];
}

export interface ExchangeSchedulerOptions {
  /** How long an exchange may go without a sign of life from the peer. */
  timeoutMs: number;
  /** Exchanges in flight at most, one connection each. */
  slots: number;
  /** Where the breaker's trips are counted. */
  traffic: PeerTraffic;
  circuit?: CircuitBreakerOptions;
  /** Monotonic clock in ms. */
  now: () => number;
}

export class ExchangeScheduler {
  private readonly timeoutMs: number;
  private readonly slots: number;
  private readonly traffic: PeerTraffic;
  private readonly breaker: CircuitBreaker;
  private readonly now: () => number;
  private inFlight = 0;
  /** Exchanges waiting for a slot, oldest first; their deadline already runs. */
  private readonly waitingForSlot: Exchange[] = [];
  /** The breaker's trips already added to traffic.circuitTrips. */
  private tripsSeen = 0;
  /** When the peer last showed a sign of life on any exchange (now()'s clock). */
  private lastSignOfLife = -Infinity;
  private closed = false;

  constructor(options: ExchangeSchedulerOptions) {
    this.timeoutMs = options.timeoutMs;
    this.slots = options.slots;
    this.traffic = options.traffic;
    this.breaker = new CircuitBreaker(options.circuit);
    this.now = options.now;
  }

  /** Whether requests go to the peer (closed), none do (open), or one probe may (half-open). */
  get circuit(): CircuitState {
    return this.breaker.state;
  }

  /** From now on every exchange fails at once (the client is closing). */
  close(): void {
    this.closed = true;
  }

  /** Starts an exchange's deadline and sends it, now or when a slot frees; or fails it at once while the circuit is open. */
  start(exchange: Exchange): void {
    if (this.closed || !this.breaker.allow(this.now())) {
      exchange.done = true;
      exchange.fail(this.closed ? new ClientClosedError() : new CircuitOpenError());
      return;
    }
    exchange.timer = setTimeout(() => this.expire(exchange), this.timeoutMs).unref();
    if (this.inFlight < this.slots) this.send(exchange);
    else this.waitingForSlot.push(exchange);
  }

  /** undici handed the exchange its controller: one that expired before it reached a socket is aborted now. */
  requestStarted(exchange: Exchange, controller: Dispatcher.DispatchController): void {
    exchange.controller = controller;
    if (exchange.done) controller.abort(new SilentPeerError('expired before it was sent'));
  }

  /** The response started: the peer answers (a 1xx heartbeat included). */
  answered(exchange: Exchange): void {
    this.breaker.answered();
    this.alive(exchange);
  }

  /** A sign of life (a heartbeat, the response's start, body bytes): the deadline starts again. */
  alive(exchange: Exchange): void {
    exchange.timer?.refresh();
    this.lastSignOfLife = this.now();
  }

  /** undici is done with the exchange (answered, failed or aborted): its slot goes to the next one waiting. */
  ended(exchange: Exchange, err?: unknown): void {
    clearTimeout(exchange.timer);
    if (!exchange.done) {
      exchange.done = true;
      if (err !== undefined) {
        this.breaker.silent(this.now());
        this.countTrips();
        exchange.fail(err);
      }
    }
    if (!exchange.sent) return;
    exchange.sent = false;
    this.inFlight--;
    // A silent peer gets no more requests from the queue: they fail at their own deadline.
    if (this.now() - this.lastSignOfLife >= this.timeoutMs) return;
    while (this.waitingForSlot.length > 0 && this.inFlight < this.slots) {
      const next = this.waitingForSlot.shift()!;
      if (!next.done) this.send(next);
    }
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
    this.countTrips();
    const err = new SilentPeerError(`timed out after ${this.timeoutMs} ms without a sign of life`);
    exchange.fail(err);
    // Not yet on a socket: request handlers abort it as soon as undici hands them the controller.
    exchange.controller?.abort(err);
  }

  /** Adds the breaker's new trips to the shared count. */
  private countTrips(): void {
    this.traffic.circuitTrips += this.breaker.trips - this.tripsSeen;
    this.tripsSeen = this.breaker.trips;
  }
}
