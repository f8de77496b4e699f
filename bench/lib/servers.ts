// servers.ts names the rings the throughput cases share, so that cases measured on the same pods say so by name.
import type { ServerSpec } from './case.js';

/** Two pods, hot cache off: the API hit on the owner, and the peer hop from a to b. */
export const HOT_OFF_PAIR: ServerSpec = { kind: 'geecache', name: 'hotoff', pods: 2, hotCache: 'off' };
/** The same with GEECACHE_PEER_BATCH=off: one GET per key, as groupcache. */
export const UNBATCHED_PAIR: ServerSpec = { kind: 'geecache', name: 'unbatched', pods: 2, hotCache: 'off', peerBatch: 'off' };
/** HOT_OFF_PAIR's pods speaking mutual TLS with each other (GEECACHE_PEER_TLS_DIR). */
export const TLS_PAIR: ServerSpec = { kind: 'geecache', name: 'tls', pods: 2, hotCache: 'off', peerTls: 'on' };
/** Two pods, hot cache on. */
export const HOT_ON_PAIR: ServerSpec = { kind: 'geecache', name: 'hoton', pods: 2, hotCache: 'on' };
export const GO_PAIR: ServerSpec = { kind: 'go' };
export const OWN_PROCESS: ServerSpec = { kind: 'own' };

/** Go groupcache's cache on the peer-hop's API pod: room for about 30 values, so its hot cache (always on) absorbs few of the 2000 keys. */
export const GO_API_POD_CACHE_BYTES = 4096;
/** Distinct keys in the peer-hop cases: with 50 connections, two concurrent requests rarely pick the same one. */
export const PEER_HOP_KEYS = 2000;
