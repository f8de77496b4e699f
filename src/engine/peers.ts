// peers.ts defines how a group finds the owner of a key and asks it for the value.
import type { CircuitState } from './circuit-breaker.js';
import type { Flight } from './singleflight.js';

/** What an owner answers for a key. */
export interface PeerValue {
  /** The value; it belongs to this answer alone (a cache may adopt it). */
  value: Uint8Array;
  /** When the owner stops serving it, in ms since the epoch; 0: never, or the owner did not say (a Go groupcache peer). */
  expiresAt: number;
  /** How often peers ask the owner for the key, per second over about a minute; undefined when the owner does not say. */
  minuteQps?: number;
}

/** Asks one remote peer for a value. Implemented by the HTTP peer client. */
export interface PeerGetter {
  /** The peer's base URL, e.g. http://10.0.0.2:8001. */
  readonly url: string;
  /**
   * Fetches `key` of `group` from the peer. Rejects with NotFoundError when the
   * owner's source lacks the key, SourceError when the owner's source failed,
   * PeerUnavailableError when the peer could not be reached or answered oddly. A client that can
   * stop a fetch early watches `flight.signal` (aborted once nobody waits for the answer); reading
   * it makes the signal, so a client that cannot stop one leaves it unread.
   */
  get(group: string, key: string, flight?: Pick<Flight, 'signal'>): Promise<PeerValue>;
  /**
   * Asks the peer for its cached copy of `key` only: it neither loads nor forwards. Resolves
   * undefined when it has none; rejects when it cannot answer in time. Absent for clients that
   * cannot (and, once it is known, for peers that are not geecache).
   */
  peek?(group: string, key: string): Promise<PeerValue | undefined>;
}

/** A value handed from one peer to the key's next owner (handoff on leave). */
export interface HandedValue {
  key: string;
  value: Uint8Array;
  /** ms since the epoch; 0: never. */
  expiresAt: number;
}

/** A peer client that can be closed when its peer leaves the ring. */
export interface ClosablePeerGetter extends PeerGetter {
  /** Lets requests in flight finish, then closes the connections. Idempotent. */
  close(): Promise<void>;
  /** Aborts requests in flight and closes the connections at once. */
  destroy?(): Promise<void>;
  /** Whether the client asks the peer at all (see CircuitBreaker); absent for clients without one. */
  readonly circuit?: CircuitState;
  /**
   * Tells the peer to invalidate `key` of `group` (every key without one) as Group.remove() does,
   * without telling anyone else; rejects when it did not confirm. Absent for clients that cannot.
   */
  invalidate?(group: string, key: string | undefined): Promise<void>;
  /**
   * Stores `value` as `key` of `group` on the peer (its owner), as Group.set() does there, without
   * telling anyone else; rejects when it did not confirm. Absent for clients that cannot.
   */
  set?(group: string, key: string, value: Uint8Array, options: { ttlMs?: number }): Promise<void>;
  /** Hands values of `group` to the peer, which keeps those it owns; resolves to how many it stored. */
  handOff?(group: string, values: readonly HandedValue[]): Promise<number>;
}

/**
 * HTTP requests made to peers: single GETs, and batches with the keys they carried. Only ever
 * grow. One object shared by every peer client counts a process's traffic, peers that left included.
 */
export interface PeerTraffic {
  gets: number;
  batches: number;
  batchedKeys: number;
  /** Times a peer's circuit opened (engine/circuit-breaker.ts). */
  circuitTrips: number;
}

/** Picks the peer that owns a key. Implemented by the peer ring. */
export interface PeerPicker {
  /** The owner's getter, or undefined when this process owns the key (or has no peers). */
  pickPeer(key: string): PeerGetter | undefined;
  /** Shortly after a membership change, the peer that may hold a cached copy of a key this process now owns. */
  handoffSource?(key: string): PeerGetter | undefined;
}

/** A picker for a process on its own: it owns every key. */
export const noPeers: PeerPicker = {
  pickPeer: () => undefined,
};
