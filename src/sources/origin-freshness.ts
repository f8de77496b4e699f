// origin-freshness.ts reads an origin's caching headers (Cache-Control, Expires, Age) as the expiry of its answer.
import CachePolicy from 'http-cache-semantics';

/**
 * The expiry of an answer that must not be cached (no-store, private, no-cache, max-age=0, an
 * Expires in the past): the callers waiting for it get it, nobody is served it from a cache.
 */
export const NOT_CACHEABLE = 1;

/** Directives that state how long an answer is fresh; without one of them (or Expires) the origin says nothing. */
const LIFETIME_DIRECTIVES = new Set(['max-age', 's-maxage', 'no-cache']);

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * When a 200 answer with these headers stops being fresh, in ms since the epoch: 0 when the origin
 * states no lifetime (the group's TTL decides, or nothing does), NOT_CACHEABLE when it must not be
 * cached. Judged as a shared cache judges (s-maxage over max-age, private not stored), without
 * heuristic freshness from Last-Modified: a cache in front of an API should not guess.
 */
export function originExpiry(headers: ResponseHeaders, now: number = Date.now()): number {
  const cacheControl = directivesOf(headers['cache-control']);
  const statesLifetime = headers.expires !== undefined || [...cacheControl.keys()].some((name) => LIFETIME_DIRECTIVES.has(name));
  if (!statesLifetime && !cacheControl.has('no-store') && !cacheControl.has('private')) return 0;
  // The library compares directive names as written; RFC 9111 says case-insensitively, so it gets them lower-cased.
  const normalized = { ...headers, 'cache-control': [...cacheControl].map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).join(', ') };
  const policy = new CachePolicy(
    { method: 'GET', url: '/', headers: {} },
    { status: 200, headers: normalized },
    { shared: true, cacheHeuristic: 0, immutableMinTimeToLive: 0 },
  );
  if (!policy.storable()) return NOT_CACHEABLE;
  if (!statesLifetime) return 0;
  // timeToLive() counts the Age the origin reported and the response's Date against Expires. All
  // three are whole seconds; rounding drops the ms the library's own clock moved meanwhile.
  const ttl = Math.round(policy.timeToLive() / 1000) * 1000;
  return ttl > 0 ? now + ttl : NOT_CACHEABLE;
}

/** The directives of a Cache-Control header (all its lines), by lower-cased name, with their arguments as written. */
function directivesOf(value: string | string[] | undefined): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const line of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    for (const part of line.split(',')) {
      const equals = part.indexOf('=');
      const name = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
      if (name !== '') directives.set(name, equals === -1 ? undefined : part.slice(equals + 1).trim());
    }
  }
  return directives;
}
