// metrics.ts is the Prometheus view of a cache process: counters mirrored from group stats, plus timings.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GroupStats } from '../engine/group.js';
import type { LoadLimiter } from '../engine/load-limiter.js';
import type { CompactStore } from '../engine/store/compact-store.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { PeerRing } from '../engine/peer-ring.js';
import type { PeerTraffic } from '../engine/peers.js';
import { SENDER_REFUSALS } from '../engine/handoff/receiver.js';
import { LatencyHistogram } from './latency-histogram.js';

/** The reasons of discovery/kubernetes/watch.ts's RestartReason (ops may not import discovery). */
export const DISCOVERY_RESTART_REASONS = ['error', 'resync'] as const;

/** The peer-port requests that need the peer token (http/peer-handler.ts's GuardedPeerRequest; ops may not import http). */
export const GUARDED_PEER_REQUESTS = ['peek', 'handoff', 'invalidation', 'set'] as const;

/** What happened to batch answers that did not go out whole (http/peer-batch-handler.ts's BatchAnswerCounts). */
export interface BatchCounts {
  cut: number;
  cutKeys: number;
  stalled: number;
}

/** An HTTP origin's limiter and the group it loads for. */
export interface OriginLoads {
  group: string;
  limiter: LoadLimiter;
}

export interface CacheMetrics {
  readonly registry: Registry;
  /** Observed per request: callers take one Recorder per (group, code) with `child()`. */
  readonly apiDuration: LatencyHistogram<'group' | 'code'>;
  readonly peerDuration: LatencyHistogram<'group' | 'outcome'>;
  readonly loadDuration: LatencyHistogram<'group' | 'outcome'>;
  readonly discoveryErrors: Counter;
  readonly discoveryRestarts: Counter<'reason'>;
  /** Invalidations carried out here: `scope` key or group, `from` a client (DELETE /api) or a peer. */
  readonly invalidations: Counter<'group' | 'scope' | 'from'>;
  /** Peers a client's invalidation was passed to: `result` reached or unreached. */
  readonly invalidationPeers: Counter<'result'>;
  /** Values set: `from` a client (PUT /api, stored here or forwarded to the owner) or a peer (stored here as owner). */
  readonly sets: Counter<'group' | 'from'>;
  /** Multi-gets answered (POST /api/mget), and their keys by per-key status. */
  readonly mgets: Counter<'group'>;
  readonly mgetKeys: Counter<'group' | 'code'>;
  /** Values this process handed to their next owners as it left, and their bytes. */
  readonly handoffPushed: Counter;
  readonly handoffPushedBytes: Counter;
  /** Peer-port requests refused: `request` peek, handoff, invalidation or set; `reason` why (no or wrong token, a sender not leaving, ...). */
  readonly peerRefused: Counter<'request' | 'reason'>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Builds a private Registry (never prom-client's global one) for one process.
 * Counters that mirror group stats read them at scrape time, so the hot path
 * pays nothing for them.
 */
export function createMetrics(
  groups: GroupRegistry,
  ring: PeerRing,
  options: { defaultMetrics?: boolean; peerTraffic?: PeerTraffic; originLoads?: readonly OriginLoads[]; batchCounts?: BatchCounts } = {},
): CacheMetrics {
  const registry = new Registry();
  const ledger = groups.segmentLedger;
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const mirror = (name: string, help: string, pick: (s: GroupStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        this.reset();
        for (const group of groups.list()) this.inc({ group: group.name }, pick(group.stats()));
      },
    });

  /** A counter with a second label beside `group`, each of its values mirrored from one group stat. */
  const mirrorBy = (name: string, help: string, label: string, picks: Record<string, (s: GroupStats) => number>) =>
    new Counter({
      name,
      help,
      labelNames: ['group', label],
      registers: [registry],
      collect() {
        this.reset();
        for (const group of groups.list()) {
          const stats = group.stats();
          for (const [value, pick] of Object.entries(picks)) this.inc({ group: group.name, [label]: value }, pick(stats));
        }
      },
    });

  mirror('geecache_gets_total', 'Gets of any kind, cache hits included.', (s) => s.gets);
  mirror('geecache_loads_total', 'Gets that missed both caches and went down the load path.', (s) => s.loads);
  mirror('geecache_loads_deduped_total', 'Loads left after singleflight: concurrent misses of one key count once.', (s) => s.loadsDeduped);
  mirror('geecache_local_loads_total', 'Values loaded from this process\'s source.', (s) => s.localLoads);
  mirror('geecache_local_load_errors_total', 'Source loads that failed, not-found included.', (s) => s.localLoadErrors);
  mirror('geecache_source_failures_total', 'Source loads that failed, not-found excluded: the source could not answer.', (s) => s.sourceFailures);
  mirror('geecache_peer_loads_total', 'Values fetched from the owner peer.', (s) => s.peerLoads);
  mirror('geecache_peer_errors_total', 'Peer fetches that failed and fell back to a local load.', (s) => s.peerErrors);
  mirror('geecache_server_requests_total', 'Gets that arrived from other peers.', (s) => s.serverRequests);
  mirror('geecache_expirations_total', 'Cached values found expired (past their TTL) and dropped.', (s) => s.expirations);

  mirrorBy('geecache_stale_served_total', 'Expired values served, by reason: revalidate (a refresh was running) or error (the load failed).', 'reason', {
    revalidate: (s) => s.staleWhileRevalidate,
    error: (s) => s.staleIfError,
  });

  mirror('geecache_loads_abandoned_total', 'Loads stopped because every caller waiting for them left (clients hung up, peers gave up).', (s) => s.loadsAbandoned);

  const origins = options.originLoads ?? [];
  const perOrigin = (name: string, help: string, kind: typeof Gauge | typeof Counter, pick: (limiter: LoadLimiter) => number) =>
    new kind({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { group, limiter } of origins) this.inc({ group }, pick(limiter));
      },
    });
  perOrigin('geecache_origin_requests_in_flight', 'Requests to the group\'s HTTP origin running now.', Gauge, (l) => l.running);
  perOrigin('geecache_origin_requests_queued', 'Requests to the group\'s HTTP origin waiting for a turn now.', Gauge, (l) => l.queued);
  perOrigin('geecache_loads_shed_total', 'Misses refused at once (503 + Retry-After) because the origin\'s queue was full.', Counter, (l) => l.shed);
  perOrigin(
    'geecache_origin_requests_dequeued_total',
    'Queued requests to the origin dropped before their turn because every caller left.',
    Counter,
    (l) => l.leftQueue,
  );

  const batches = options.batchCounts;
  if (batches) {
    new Counter({
      name: 'geecache_peer_batch_answers_cut_total',
      help: 'Batch answers not sent whole: `reason` budget (past 64 MiB of values, the rest of their keys answered 507) or stalled (the client stopped reading).',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ reason: 'budget' }, batches.cut);
        this.inc({ reason: 'stalled' }, batches.stalled);
      },
    });
  }

  const traffic = options.peerTraffic;
  if (traffic) {
    new Counter({
      name: 'geecache_peer_http_requests_total',
      help: 'HTTP requests sent to owner peers: single GETs, and batches of the keys asked for in one event-loop turn.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ kind: 'get' }, traffic.gets);
        this.inc({ kind: 'batch' }, traffic.batches);
      },
    });
    new Counter({
      name: 'geecache_peer_circuit_trips_total',
      help: 'Times a peer stopped being asked after requests went unanswered (its circuit opened).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(traffic.circuitTrips);
      },
    });
    new Counter({
      name: 'geecache_peer_batched_keys_total',
      help: 'Keys sent to owner peers in batches (divide by the batch requests for the mean batch size).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(traffic.batchedKeys);
      },
    });
  }

  mirrorBy('geecache_cache_hits_total', 'Gets answered from the main or the hot cache.', 'cache', { main: (s) => s.mainHits, hot: (s) => s.hotHits });

  const perCache = (kind: 'gauge' | 'counter', name: string, help: string, pick: 'bytes' | 'items' | 'evictions' | 'unexpiredEvictions') => {
    const config = {
      name,
      help,
      labelNames: ['group', 'cache'] as const,
      registers: [registry],
    };
    const read = () =>
      groups.list().flatMap((group) => [
        { labels: { group: group.name, cache: 'main' }, value: group.mainCache.stats()[pick] },
        { labels: { group: group.name, cache: 'hot' }, value: group.hotCache.stats()[pick] },
      ]);
    if (kind === 'gauge') {
      new Gauge({ ...config, collect() { this.reset(); for (const { labels, value } of read()) this.set(labels, value); } });
    } else {
      new Counter({ ...config, collect() { this.reset(); for (const { labels, value } of read()) this.inc(labels, value); } });
    }
  };
  perCache('gauge', 'geecache_cache_bytes', 'Bytes held by the main and hot caches: key + value + the store\'s overhead per entry, what the budget counts.', 'bytes');
  perCache('gauge', 'geecache_cache_items', 'Entries held by the main and hot caches.', 'items');
  perCache('counter', 'geecache_cache_evictions_total', 'Entries evicted to stay within the byte budget.', 'evictions');
  perCache(
    'counter',
    'geecache_cache_unexpired_evictions_total',
    'Evicted entries whose expiry had not come yet: the byte budget cut them short of their TTL.',
    'unexpiredEvictions',
  );

  new Gauge({
    name: 'geecache_peer_circuit',
    help: "Each other peer's circuit: 1 for its current state (closed: asked; open: not asked; half-open: one probe).",
    labelNames: ['peer', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [peer, client] of ring.peerClients()) {
        if (client.circuit === undefined) continue;
        for (const state of ['closed', 'open', 'half-open'] as const) this.set({ peer, state }, client.circuit === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'geecache_peers',
    help: 'Peers in the ring, this process included.',
    registers: [registry],
    collect() {
      this.set(ring.peers.length);
    },
  });
  new Counter({
    name: 'geecache_membership_changes_total',
    help: 'Times the peer set changed.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(ring.membershipChanges);
    },
  });

  // Each store's segments: live / (live + dead) is how well they are packed; compaction keeps dead under about live/8.
  const perStore = (name: string, help: string, labelNames: string[], read: (store: CompactStore) => [Record<string, string>, number][]) =>
    new Gauge({
      name,
      help,
      labelNames: ['group', 'cache', ...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const group of groups.list()) {
          for (const [cache, store] of [['main', group.mainCache], ['hot', group.hotCache]] as const) {
            for (const [labels, value] of read(store)) this.set({ group: group.name, cache, ...labels }, value);
          }
        }
      },
    });
  perStore('geecache_store_segments', 'Byte segments each cache holds its keys and values in.', [], (store) => [[{}, store.footprint().segments]]);
  perStore(
    'geecache_store_segment_bytes',
    'Bytes of key and value records each cache uses in its segments (live), and bytes of removed records not yet compacted away (dead).',
    ['state'],
    (store) => {
      const footprint = store.footprint();
      return [
        [{ state: 'live' }, footprint.liveBytes],
        [{ state: 'dead' }, footprint.deadBytes],
      ];
    },
  );

  // Dropped segments free only at a full GC, when no response in flight still reads them.
  new Gauge({
    name: 'geecache_segment_bytes',
    help: 'Bytes of store segments not yet freed (held, node-wide), and of those the segments stores dropped that wait for a full GC (dropped).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = ledger.stats();
      this.set({ state: 'held' }, stats.heldBytes);
      this.set({ state: 'dropped' }, stats.droppedBytes);
    },
  });

  const invalidations = new Counter({
    name: 'geecache_invalidations_total',
    help: 'Invalidations carried out here, by group, scope (key or group) and who asked (client or peer).',
    labelNames: ['group', 'scope', 'from'] as const,
    registers: [registry],
  });
  const invalidationPeers = new Counter({
    name: 'geecache_invalidation_peers_total',
    help: 'Other peers a client\'s invalidation was passed to, by result (reached or unreached).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const sets = new Counter({
    name: 'geecache_sets_total',
    help: 'Values set, by group and who asked: a client (PUT /api on this process) or a peer (a set forwarded to this owner).',
    labelNames: ['group', 'from'] as const,
    registers: [registry],
  });
  const mgets = new Counter({
    name: 'geecache_mget_requests_total',
    help: 'Multi-gets answered (POST /api/mget), by group.',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  const mgetKeys = new Counter({
    name: 'geecache_mget_keys_total',
    help: 'Keys answered in multi-gets, by group and per-key status code.',
    labelNames: ['group', 'code'] as const,
    registers: [registry],
  });
  // Series from the start, at 0, so that rate() and alerts see the first invalidation.
  for (const group of groups.list()) {
    for (const from of ['client', 'peer']) sets.inc({ group: group.name, from }, 0);
    mgets.inc({ group: group.name }, 0);
    mgetKeys.inc({ group: group.name, code: 200 }, 0);
    for (const scope of ['key', 'group']) for (const from of ['client', 'peer']) invalidations.inc({ group: group.name, scope, from }, 0);
  }
  for (const result of ['reached', 'unreached']) invalidationPeers.inc({ result }, 0);

  mirrorBy(
    'geecache_handoff_peeks_total',
    "Misses this process owns, after a membership change, that asked the key's previous holder for its cached copy, by result (hit, miss, error).",
    'result',
    { hit: (s) => s.peekHits, miss: (s) => s.peekMisses, error: (s) => s.peekErrors },
  );
  mirrorBy(
    'geecache_handoff_received_total',
    'Values other peers handed here as they left, by result (stored, or refused: not owned here, expired, or already cached).',
    'result',
    { stored: (s) => s.handoffStored, refused: (s) => s.handoffRefused },
  );
  mirror('geecache_handoff_received_bytes_total', 'Value bytes of the handed values stored here.', (s) => s.handoffStoredBytes);
  mirror('geecache_handoff_peeks_served_total', 'Peeks other peers sent here (answered or not).', (s) => s.peeksServed);

  const discoveryRestarts = new Counter({
    name: 'geecache_discovery_restarts_total',
    help: 'Restarts of the membership watch, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  // At 0 from the start, as the invalidation counters, so that the dashboard and alerts see the first restart.
  for (const reason of DISCOVERY_RESTART_REASONS) discoveryRestarts.inc({ reason }, 0);

  // Every known refusal has a series from the start, so alerts and dashboards see 0 rather than nothing.
  const peerRefused = new Counter({
    name: 'geecache_peer_requests_refused_total',
    help: 'Requests on the peer port refused, by request (peek, handoff, invalidation, set) and reason (token, not-leaving, not-a-peer, wrong-address, no-sender).',
    labelNames: ['request', 'reason'] as const,
    registers: [registry],
  });
  for (const request of GUARDED_PEER_REQUESTS) peerRefused.inc({ request, reason: 'token' }, 0);
  for (const reason of SENDER_REFUSALS) peerRefused.inc({ request: 'handoff', reason }, 0);

  return {
    registry,
    handoffPushed: new Counter({
      name: 'geecache_handoff_pushed_total',
      help: 'Values this process handed to their next owners as it left.',
      registers: [registry],
    }),
    handoffPushedBytes: new Counter({
      name: 'geecache_handoff_pushed_bytes_total',
      help: 'Value bytes this process handed to their next owners as it left.',
      registers: [registry],
    }),
    peerRefused,
    invalidations,
    invalidationPeers,
    sets,
    mgets,
    mgetKeys,
    apiDuration: new LatencyHistogram({
      name: 'geecache_api_request_duration_seconds',
      help: 'Time to answer GET /api, by group and status code.',
      labelNames: ['group', 'code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    peerDuration: new LatencyHistogram({
      name: 'geecache_peer_request_duration_seconds',
      help: 'Time to fetch a value from its owner peer.',
      labelNames: ['group', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    loadDuration: new LatencyHistogram({
      name: 'geecache_load_duration_seconds',
      help: 'Time to load a value from this process\'s source.',
      labelNames: ['group', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    discoveryErrors: new Counter({
      name: 'geecache_discovery_errors_total',
      help: 'Failed lists and watches of peer membership.',
      registers: [registry],
    }),
    discoveryRestarts,
  };
}
