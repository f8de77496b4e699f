// static.ts is a fixed peer list: for local clusters, tests and deployments without Kubernetes.

import { canonicalPeers, trimPeerUrl } from '../engine/peer-url.js';
import type { Discovery, PeersListener } from './discovery.js';

export interface StaticDiscoveryOptions {
  /** Peer base URLs such as `http://10.0.0.5:8001`. Self may be omitted; it is added. */
  peers: Iterable<string>;
  /** This process's own base URL; always part of the list. */
  self: string;
}

/** Delivers one canonical list (self included) on start() and never changes it. */
export class StaticDiscovery implements Discovery {
  readonly #list: readonly string[];
  #peers: readonly string[] = [];
  #started = false;
  #closed = false;

  constructor(options: StaticDiscoveryOptions) {
    if (typeof options.self !== 'string' || options.self === '') {
      throw new TypeError('StaticDiscovery: option "self" must be a non-empty peer URL');
    }
    const peers = [...options.peers];
    for (const peer of peers) {
      if (typeof peer !== 'string' || peer === '') throw new TypeError('StaticDiscovery: option "peers" holds an empty entry');
    }
    // Tolerate "http://host:port/" in configuration: peers are compared as strings.
    this.#list = Object.freeze(canonicalPeers([...peers, options.self].map(trimPeerUrl)));
  }

  get hasListed(): boolean {
    return this.#peers.length > 0;
  }

  get peers(): readonly string[] {
    return this.#peers;
  }

  start(listener: PeersListener): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#peers = this.#list;
    listener(this.#list);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
