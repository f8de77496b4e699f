// peer-ring.ts is the current membership: the hash ring over the peers, and a client for each other peer.
import { HashRing, type HashFunction } from './ring.js';
import type { ClosablePeerGetter, PeerGetter, PeerPicker } from './peers.js';
import { samePeers, validatePeerUrl } from './peer-url.js';
import { HandoffWindow, type HandoffView } from './handoff/window.js';

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
  /** How long the handoff window stays open after every membership change (handoff/window.ts). Default 0: no handoff, as groupcache. */
  handoffWindowMs?: number;
  /** Monotonic clock in ms, for the handoff window. Default performance.now. */
  now?: () => number;
}

export class PeerRing implements PeerPicker {
  readonly self: string;
  /** Who held a key before the last change, who takes it next, and the peers that just left. */
  readonly handoffWindow: HandoffWindow;
  private readonly options: PeerRingOptions;
  private hashRing: HashRing;
  private clients = new Map<string, ClosablePeerGetter>();
  /** Clients of peers that left, or of a ring being closed, still finishing their requests. */
  private readonly closing = new Set<ClosablePeerGetter>();
  private changes = 0;

  constructor(options: PeerRingOptions) {
    this.options = options;
    this.self = validatePeerUrl(options.self);
    this.hashRing = this.makeRing([]);
    this.handoffWindow = new HandoffWindow(this, {
      windowMs: options.handoffWindowMs ?? 0,
      now: options.now ?? (() => performance.now()),
      replicas: options.replicas,
      hash: options.hash,
    });
  }

  /**
   * Replaces the membership. The new ring and clients take effect together, so a
   * concurrent pickPeer sees either the old or the new set, never a mix. Clients of
   * peers that left are closed gracefully (in-flight requests finish) once the
   * handoff window no longer needs them.
   */
  set(...peers: string[]): void {
    peers.forEach(validatePeerUrl);
    const next = this.makeRing(peers);
    if (samePeers(next.peers, this.hashRing.peers)) return;
    const clients = new Map<string, ClosablePeerGetter>();
    for (const peer of next.peers) {
      if (peer === this.self) continue;
      clients.set(peer, this.clients.get(peer) ?? this.handoffWindow.reclaim(peer) ?? this.options.createClient(peer));
    }
    const left = [...this.clients].filter(([peer]) => !clients.has(peer));
    const previous = this.hashRing;
    this.hashRing = next;
    this.clients = clients;
    this.changes++;
    for (const client of this.handoffWindow.changed(previous, left)) void this.retire(client).catch(() => {});
    this.options.onChange?.(next.peers);
  }

  pickPeer(key: string): PeerGetter | undefined {
    const owner = this.hashRing.ownerOf(key);
    if (owner === undefined || owner === this.self) return undefined;
    return this.clients.get(owner);
  }

  /** PeerPicker's handoffSource: HandoffWindow.sourceOf. */
  handoffSource(key: string): PeerGetter | undefined {
    return this.handoffWindow.sourceOf(key);
  }

  /** What /debug/ring shows of the handoff window. */
  get handoff(): HandoffView {
    return this.handoffWindow.view();
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
    const clients = [...this.clients.values(), ...this.handoffWindow.close()];
    this.clients = new Map();
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
