// metrics.ts scrapes a pod's Prometheus text and sums samples, so cases can prove which path served their load.

export type Samples = Map<string, number>;

/** Fetches `url` (a /metrics endpoint) and returns every sample keyed by its full series name. */
export async function scrape(url: string): Promise<Samples> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space > 0 && Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/**
 * Sum of the samples of metric `name` whose labels include every `labels` pair
 * (e.g. sum(samples, 'geecache_cache_hits_total', { cache: 'hot' })).
 */
export function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [series, value] of samples) {
    const brace = series.indexOf('{');
    const metric = brace === -1 ? series : series.slice(0, brace);
    if (metric !== name) continue;
    if (wanted.every((pair) => series.includes(pair))) total += value;
  }
  return total;
}

/** The counters the bench reports per pod, as deltas between two scrapes. */
export const COUNTERS = {
  localLoads: ['geecache_local_loads_total', {}],
  peerLoads: ['geecache_peer_loads_total', {}],
  mainHits: ['geecache_cache_hits_total', { cache: 'main' }],
  hotHits: ['geecache_cache_hits_total', { cache: 'hot' }],
  peerGets: ['geecache_peer_http_requests_total', { kind: 'get' }],
  peerBatches: ['geecache_peer_http_requests_total', { kind: 'batch' }],
  batchedKeys: ['geecache_peer_batched_keys_total', {}],
  gets: ['geecache_gets_total', {}],
  serverRequests: ['geecache_server_requests_total', {}],
} as const satisfies Record<string, readonly [string, Record<string, string>]>;

export type CounterName = keyof typeof COUNTERS;
export type Counters = Record<CounterName, number>;

export function counters(samples: Samples): Counters {
  const out = {} as Counters;
  for (const [key, [name, labels]] of Object.entries(COUNTERS) as [CounterName, readonly [string, Record<string, string>]][]) {
    out[key] = sum(samples, name, labels);
  }
  return out;
}

export function diff(after: Counters, before: Counters): Counters {
  const out = {} as Counters;
  for (const key of Object.keys(after) as CounterName[]) out[key] = after[key] - before[key];
  return out;
}
