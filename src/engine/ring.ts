// ring.ts is groupcache's consistent hash: peers own points on a crc32 circle, keys go to the next point.
import { crc32 } from 'node:zlib';
import { canonicalPeers } from './peer-url.js';

/** Hashes the UTF-8 bytes of a string to an unsigned 32-bit integer. */
export type HashFunction = (data: string) => number;

export interface HashRingOptions {
  /** Points per peer on the ring. Default 50, as groupcache's HTTPPool. */
  replicas?: number;
  /** Hash of UTF-8 bytes to an unsigned 32-bit integer. Default crc32 (IEEE), equal to Go's crc32.ChecksumIEEE. */
  hash?: HashFunction;
}

// zlib.crc32 hashes a string's UTF-8 bytes without an intermediate buffer.
const defaultHash: HashFunction = (data) => crc32(data);

/**
 * An immutable ring. Byte-for-byte the scheme of Go groupcache's consistenthash
 * (point i of peer p is hash(String(i) + p)), so a TypeScript pool and a Go pool
 * given the same peers agree on every key's owner.
 */
export class HashRing {
  readonly replicas: number;
  readonly peers: readonly string[];
  private readonly hash: HashFunction;
  private readonly points: Uint32Array;
  private readonly owners: string[];

  constructor(peers: Iterable<string>, options: HashRingOptions = {}) {
    const replicas = options.replicas ?? 50;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new TypeError(`replicas must be a positive integer, got ${replicas}`);
    }
    this.replicas = replicas;
    this.hash = options.hash ?? defaultHash;
    this.peers = canonicalPeers(peers);

    // On a hash collision the peer added last keeps the point, as Go's map overwrite does.
    const ownerByPoint = new Map<number, string>();
    for (const peer of this.peers) {
      for (let i = 0; i < replicas; i++) {
        ownerByPoint.set(this.hash(String(i) + peer) >>> 0, peer);
      }
    }
    this.points = Uint32Array.from(ownerByPoint.keys()).sort();
    this.owners = Array.from(this.points, (point) => ownerByPoint.get(point)!);
  }

  get isEmpty(): boolean {
    return this.points.length === 0;
  }

  /** The peer that owns `key`, or undefined when the ring has no peers. */
  ownerOf(key: string): string | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const h = this.hash(key) >>> 0;
    // First point with hash >= h (binary search), wrapping to point 0.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo];
  }
}
