// window.ts is handoff's view of membership: for a while after each change, who held a key before, who takes it next, and the peers that just left.
import { HashRing, type HashRingOptions } from '../ring.js';
import type { ClosablePeerGetter, PeerGetter } from '../peers.js';

/** What the window reads of the current membership (PeerRing). */
export interface Membership {
  readonly self: string;
  readonly peers: readonly string[];
  ownerOf(key: string): string | undefined;
  peerClients(): ReadonlyMap<string, ClosablePeerGetter>;
}

export interface HandoffWindowOptions extends HashRingOptions {
  /**
   * For this long after every membership change, keys this process owns are first looked for on
   * the peer that held them before (sourceOf), and peers that left may still hand values over.
   * 0: no handoff, as groupcache.
   */
  windowMs: number;
  /** Monotonic clock in ms. */
  now: () => number;
}

/** What /debug/ring shows of the handoff window. */
export interface HandoffView {
  windowMs: number;
  /** Left of the window opened by the last membership change; 0 once it closed. */
  remainingMs: number;
  /** The membership before the last change. */
  previousPeers: readonly string[];
}

export class HandoffWindow {
  readonly windowMs: number;
  private readonly members: Membership;
  private readonly options: HandoffWindowOptions;
  /** The ring without this process: who owned a key before this process took it, and who takes it when it leaves. */
  private successors: HashRing;
  /** The membership before the last change, with this process and without it. */
  private previousRing: HashRing;
  private previousSuccessors: HashRing;
  private changedAt = -Infinity;
  /**
   * Peers that left, with when and their clients, kept open through the window: a terminating pod
   * still answers peeks until it exits, and may hand its values over.
   */
  private readonly departed = new Map<string, { at: number; client: ClosablePeerGetter }>();
  /** The ring without one sender (undefined: it is no member), built once per sender and membership: a handoff brings many keys from one peer. */
  private without: { peer: string; ring: HashRing | undefined } | undefined;

  constructor(members: Membership, options: HandoffWindowOptions) {
    if (!Number.isSafeInteger(options.windowMs) || options.windowMs < 0) {
      throw new TypeError(`handoffWindowMs must be a non-negative integer, got ${options.windowMs}`);
    }
    this.members = members;
    this.options = options;
    this.windowMs = options.windowMs;
    this.successors = this.previousRing = this.previousSuccessors = this.makeRing([]);
  }

  /** The client of a peer that left within the window and is back: it is reused, not made again. */
  reclaim(peer: string): ClosablePeerGetter | undefined {
    const departed = this.departed.get(peer);
    this.departed.delete(peer);
    return departed?.client;
  }

  /**
   * Opens a new window: the membership changed from `previous` (the members already say the new
   * one). The clients of peers that `left` are kept through it; returns the clients to close now.
   */
  changed(previous: HashRing, left: ReadonlyArray<[string, ClosablePeerGetter]>): ClosablePeerGetter[] {
    const now = this.options.now();
    this.previousRing = previous;
    this.previousSuccessors = this.successors;
    this.successors = this.makeRing(this.members.peers.filter((peer) => peer !== this.members.self));
    this.changedAt = now;
    this.without = undefined;
    const retired: ClosablePeerGetter[] = [];
    for (const [peer, { at, client }] of this.departed) {
      if (now - at < this.windowMs) continue;
      this.departed.delete(peer);
      retired.push(client);
    }
    for (const [peer, client] of left) {
      if (this.windowMs > 0) this.departed.set(peer, { at: now, client });
      else retired.push(client);
    }
    return retired;
  }

  /**
   * Within the window, for a key this process owns, the peer that may hold it cached: its owner
   * before the last change, if another peer (a member, or one that just left: a terminating pod
   * answers peeks until it exits); if this process owned it then too without holding it now, the
   * peer the ring without this process gave it to (where a leaving pod handed it, or where it
   * lived before this process joined). Undefined outside the window.
   */
  sourceOf(key: string): PeerGetter | undefined {
    const now = this.options.now();
    if (this.windowMs === 0 || now - this.changedAt >= this.windowMs) return undefined;
    const { self } = this.members;
    if (this.members.ownerOf(key) !== self) return undefined;
    let holder = this.previousRing.ownerOf(key);
    // No ring before (this process just started): the ring without it says where the key lived.
    if (holder === undefined) holder = this.successors.ownerOf(key);
    else if (holder === self) holder = this.previousSuccessors.ownerOf(key);
    if (holder === undefined) return undefined;
    const departed = this.departed.get(holder);
    return this.members.peerClients().get(holder) ?? (departed && now - departed.at < this.windowMs ? departed.client : undefined);
  }

  /** Who takes `key` when this process leaves: the owner in the ring without it, or undefined when no other peer is left. */
  successorOf(key: string): string | undefined {
    return this.successors.ownerOf(key);
  }

  /**
   * Why `peer` may not hand values to this process now, or undefined when it may: only a peer that
   * left the ring within the window (in Kubernetes a terminating pod leaves at once) is leaving.
   * 'member': it is still in this ring, so not leaving in this process's view (yet: it may ask
   * again); 'unknown': no peer that left within the window (a stranger, itself, or no window).
   */
  handoffRefusal(peer: string): 'member' | 'unknown' | undefined {
    if (this.windowMs === 0 || peer === this.members.self) return 'unknown';
    const departed = this.departed.get(peer);
    if (departed !== undefined && this.options.now() - departed.at < this.windowMs) return undefined;
    return this.members.peerClients().has(peer) ? 'member' : 'unknown';
  }

  /** Whether this process owns `key` in the ring without `peer`: the keys `peer` may hand to it. */
  ownsWithout(peer: string, key: string): boolean {
    if (this.without?.peer !== peer) {
      const { peers } = this.members;
      this.without = { peer, ring: peers.includes(peer) ? this.makeRing(peers.filter((p) => p !== peer)) : undefined };
    }
    const owner = this.without.ring ? this.without.ring.ownerOf(key) : this.members.ownerOf(key);
    return owner === this.members.self;
  }

  view(): HandoffView {
    const remainingMs = this.windowMs === 0 ? 0 : Math.max(0, this.changedAt + this.windowMs - this.options.now());
    return { windowMs: this.windowMs, remainingMs: Math.round(remainingMs), previousPeers: this.previousRing.peers };
  }

  /** Ends the window at once (the ring is closing); returns the departed peers' clients, still to be closed. */
  close(): ClosablePeerGetter[] {
    const clients = [...this.departed.values()].map((departed) => departed.client);
    this.departed.clear();
    return clients;
  }

  private makeRing(peers: string[]): HashRing {
    return new HashRing(peers, { replicas: this.options.replicas, hash: this.options.hash });
  }
}
