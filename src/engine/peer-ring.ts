// peer-ring.ts is the current membership: the hash ring over the peers, and a client for each other peer.
import { HashRing, type HashFunction } from './ring.js';
import type { ClosablePeerGetter, PeerGetter, PeerPicker } from './peers.js';
import { samePeers, validatePeerUrl } from './peer-url.js';

export interface PeerRingOptions {
  /** This process's own peer base URL, e.g. http://10.0.0.5:8001. Keys it owns are never fetched remotely. */
  self: string;
  /** Makes a client for a peer base URL; the ring closes it when the peer leaves. */
  createClient: (peerUrl: string) => ClosablePeerGetter;
  /** Points per peer on the ring. Default 50. */
  replicas?: number;
  /** Default crc32 (IEEE). */
  hash?: HashFunction;
  /** Called after every set() that changed the membership. */
  onChange?: (peers: readonly string[]) => void;
  /**
   * For this long after every membership change, keys this process owns are first looked for on
   * the peer that would own them without it (handoffSource), and peers that left may still hand
   * values over. Default 0: no handoff, as groupcache.
   */
  handoffWindowMs?: number;
  /** Monotonic clock in ms, for the handoff window. Default performance.now. */
  now?: () => number;
}

/** What /debug/ring shows of the handoff window. */
export interface HandoffView {
  windowMs: number;
  /** Left of the window opened by the last membership change; 0 once it closed. */
  remainingMs: number;
  /** The membership before the last change. */
  previousPeers: readonly string[];
}

export class PeerRing implements PeerPicker {
  readonly self: string;
  private readonly options: PeerRingOptions;
  private hashRing: HashRing;
  private clients = new Map<string, ClosablePeerGetter>();
  /** Clients of peers that left, or of a ring being closed, still finishing their requests. */
  private readonly closing = new Set<ClosablePeerGetter>();
  private changes = 0;
  private readonly handoffWindowMs: number;
  private readonly now: () => number;
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
  private without: { peer: string; changes: number; ring: HashRing } | undefined;

  constructor(options: PeerRingOptions) {
    this.options = options;
    this.self = validatePeerUrl(options.self);
    this.hashRing = this.makeRing([]);
    this.successors = this.hashRing;
    this.previousRing = this.hashRing;
    this.previousSuccessors = this.hashRing;
    this.handoffWindowMs = options.handoffWindowMs ?? 0;
    if (!Number.isSafeInteger(this.handoffWindowMs) || this.handoffWindowMs < 0) {
      throw new TypeError(`handoffWindowMs must be a non-negative integer, got ${options.handoffWindowMs}`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Replaces the membership. The new ring and clients take effect together, so a
   * concurrent pickPeer sees either the old or the new set, never a mix. Clients of
   * peers that left are closed gracefully (in-flight requests finish).
   */
  set(...peers: string[]): void {
    peers.forEach(validatePeerUrl);
    const next = this.makeRing(peers);
    if (samePeers(next.peers, this.hashRing.peers)) return;
    const clients = new Map<string, ClosablePeerGetter>();
    for (const peer of next.peers) {
      if (peer === this.self) continue;
      // A peer that comes back within the window gets its client back.
      clients.set(peer, this.clients.get(peer) ?? this.departed.get(peer)?.client ?? this.options.createClient(peer));
    }
    const leaving = [...this.clients].filter(([peer]) => !clients.has(peer));
    const now = this.now();
    this.previousRing = this.hashRing;
    this.previousSuccessors = this.successors;
    this.hashRing = next;
    this.successors = this.makeRing(next.peers.filter((peer) => peer !== this.self));
    this.clients = clients;
    this.changes++;
    this.changedAt = now;
    for (const [peer, { at, client }] of this.departed) {
      if (clients.has(peer)) this.departed.delete(peer);
      else if (now - at >= this.handoffWindowMs) {
        this.departed.delete(peer);
        void this.retire(client).catch(() => {});
      }
    }
    for (const [peer, client] of leaving) {
      if (this.handoffWindowMs > 0) this.departed.set(peer, { at: now, client });
      else void this.retire(client).catch(() => {});
    }
    this.options.onChange?.(next.peers);
  }

  pickPeer(key: string): PeerGetter | undefined {
    const owner = this.hashRing.ownerOf(key);
    if (owner === undefined || owner === this.self) return undefined;
    return this.clients.get(owner);
  }

  /**
   * Within the handoff window, for a key this process owns, the peer that may hold it cached: its
   * owner before the last change, if another peer (a member, or one that just left: a terminating
   * pod answers peeks until it exits); if this process owned it then too without holding it now,
   * the peer the ring without this process gave it to (where a leaving pod handed it, or where it
   * lived before this process joined). Undefined outside the window.
   */
  handoffSource(key: string): PeerGetter | undefined {
    const now = this.now();
    if (this.handoffWindowMs === 0 || now - this.changedAt >= this.handoffWindowMs) return undefined;
    if (this.hashRing.ownerOf(key) !== this.self) return undefined;
    let holder = this.previousRing.ownerOf(key);
    // No ring before (this process just started): the ring without it says where the key lived.
    if (holder === undefined) holder = this.successors.ownerOf(key);
    else if (holder === this.self) holder = this.previousSuccessors.ownerOf(key);
    if (holder === undefined) return undefined;
    const departed = this.departed.get(holder);
    return this.clients.get(holder) ?? (departed && now - departed.at < this.handoffWindowMs ? departed.client : undefined);
  }

  /** Who takes `key` when this process leaves: the owner in the ring without it, or undefined when no other peer is left. */
  successorOf(key: string): string | undefined {
    return this.successors.ownerOf(key);
  }

  /**
   * Whether `peer` may hand values to this process: a member, or a peer that left within the
   * handoff window (a terminating pod leaves the ring before it hands its values over).
   */
  acceptsHandoffFrom(peer: string): boolean {
    if (this.handoffWindowMs === 0 || peer === this.self) return false;
    if (this.clients.has(peer)) return true;
    const departed = this.departed.get(peer);
    return departed !== undefined && this.now() - departed.at < this.handoffWindowMs;
  }

  /** Whether this process owns `key` in the ring without `peer`: the keys `peer` may hand to it. */
  ownsWithout(peer: string, key: string): boolean {
    // A handoff brings many keys from one peer: its ring is built once per peer and membership.
    if (this.without?.peer !== peer || this.without.changes !== this.changes) {
      const members = this.hashRing.peers;
      this.without = { peer, changes: this.changes, ring: members.includes(peer) ? this.makeRing(members.filter((p) => p !== peer)) : this.hashRing };
    }
    return this.without.ring.ownerOf(key) === this.self;
  }

  get handoff(): HandoffView {
    const remainingMs = this.handoffWindowMs === 0 ? 0 : Math.max(0, this.changedAt + this.handoffWindowMs - this.now());
    return { windowMs: this.handoffWindowMs, remainingMs: Math.round(remainingMs), previousPeers: this.previousRing.peers };
  }

  /** The client of every other peer, by peer URL. */
  peerClients(): ReadonlyMap<string, ClosablePeerGetter> {
    return this.clients;
  }

  /** The owner of a key (self included), or undefined with no peers. */
  ownerOf(key: string): string | undefined {
    return this.hashRing.ownerOf(key);
  }

  get peers(): readonly string[] {
    return this.hashRing.peers;
  }

  get replicas(): number {
    return this.hashRing.replicas;
  }

  /** How many times set() changed the membership. */
  get membershipChanges(): number {
    return this.changes;
  }

  /**
   * Closes every peer client: gracefully (requests in flight finish), or with `force` at once
   * (they are aborted, for a shutdown past its deadline). Idempotent.
   */
  async close(force = false): Promise<void> {
    const clients = [...this.clients.values(), ...[...this.departed.values()].map((departed) => departed.client)];
    this.clients = new Map();
    this.departed.clear();
    this.hashRing = this.makeRing([]);
    if (force) {
      await Promise.allSettled([...clients, ...this.closing].map((client) => (client.destroy ? client.destroy() : client.close())));
      return;
    }
    await Promise.allSettled(clients.map((client) => this.retire(client)));
  }

  /** Closes a client gracefully; close(true) can still abort it meanwhile. */
  private async retire(client: ClosablePeerGetter): Promise<void> {
    this.closing.add(client);
    try {
      await client.close();
    } finally {
      this.closing.delete(client);
    }
  }

  private makeRing(peers: string[]): HashRing {
    return new HashRing(peers, { replicas: this.options.replicas, hash: this.options.hash });
  }
}
