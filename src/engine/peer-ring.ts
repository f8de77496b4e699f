// pool.ts is the peer pool: the ring of peer clients this process picks owners from.
import { HashRing, type HashFunction } from './ring.js';
import type { PeerGetter, PeerPicker } from './peers.js';
import { samePeers } from '../discovery/discovery.js';

/** A peer client the pool can close when its peer leaves. */
export interface ClosablePeerGetter extends PeerGetter {
  close(): Promise<void>;
}

export interface PeerPoolOptions {
  /** This process's own peer base URL, e.g. http://10.0.0.5:8001. Keys it owns are never fetched remotely. */
  self: string;
  /** Makes a client for a peer base URL. */
  createClient: (peerUrl: string) => ClosablePeerGetter;
  /** Points per peer on the ring. Default 50. */
  replicas?: number;
  /** Default crc32 (IEEE). */
  hash?: HashFunction;
  /** Called after every set() that changed the membership. */
  onChange?: (peers: readonly string[]) => void;
}

/** Whether `url` is a peer base URL: http(s), a host, no path, query or trailing slash. */
export function isPeerUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === url;
}

/** Returns `url` if it is a peer base URL, else throws a TypeError saying what is wrong. */
export function validatePeerUrl(url: string): string {
  if (!URL.canParse(url)) throw new TypeError(`peer URL ${JSON.stringify(url)} is not a URL`);
  if (!isPeerUrl(url)) {
    throw new TypeError(`peer URL ${JSON.stringify(url)} must be scheme://host:port with no path, e.g. http://10.0.0.5:8001`);
  }
  return url;
}

export class PeerPool implements PeerPicker {
  readonly self: string;
  private readonly options: PeerPoolOptions;
  private ring: HashRing;
  private clients = new Map<string, ClosablePeerGetter>();
  private changes = 0;

  constructor(options: PeerPoolOptions) {
    this.options = options;
    this.self = validatePeerUrl(options.self);
    this.ring = this.makeRing([]);
  }

  /**
   * Replaces the membership. The new ring and clients take effect together, so a
   * concurrent pickPeer sees either the old or the new set, never a mix. Clients of
   * peers that left are closed gracefully (in-flight requests finish).
   */
  set(...peers: string[]): void {
    peers.forEach(validatePeerUrl);
    const ring = this.makeRing(peers);
    if (samePeers(ring.peers, this.ring.peers)) return;
    const clients = new Map<string, ClosablePeerGetter>();
    for (const peer of ring.peers) {
      if (peer === this.self) continue;
      clients.set(peer, this.clients.get(peer) ?? this.options.createClient(peer));
    }
    const leaving = [...this.clients].filter(([peer]) => !clients.has(peer));
    this.ring = ring;
    this.clients = clients;
    this.changes++;
    for (const [, client] of leaving) void client.close().catch(() => {});
    this.options.onChange?.(ring.peers);
  }

  pickPeer(key: string): PeerGetter | undefined {
    const owner = this.ring.ownerOf(key);
    if (owner === undefined || owner === this.self) return undefined;
    return this.clients.get(owner);
  }

  /** The owner of a key (self included), or undefined with no peers. */
  ownerOf(key: string): string | undefined {
    return this.ring.ownerOf(key);
  }

  get peers(): readonly string[] {
    return this.ring.peers;
  }

  get replicas(): number {
    return this.ring.replicas;
  }

  /** How many times set() changed the membership. */
  get membershipChanges(): number {
    return this.changes;
  }

  /** Closes every peer client. Idempotent. */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients = new Map();
    this.ring = this.makeRing([]);
    await Promise.allSettled(clients.map((client) => client.close()));
  }

  private makeRing(peers: string[]): HashRing {
    return new HashRing(peers, { replicas: this.options.replicas, hash: this.options.hash });
  }
}
