// set.ts is the wire format of a set forwarded to a key's owner:
//
// Request:  PUT <basePath><group>/<key> (the GET path), the value as the body, and SET_TTL_HEADER with
//           the TTL asked for in ms when there is one (the owner's group caps it).
// Response: 204 once the owner stored it. A Go groupcache peer takes the PUT for a GET and answers
//           200 with the old value: the client reports it as not a geecache peer, nothing is stored.

export const SET_TTL_HEADER = 'geecache-ttl-ms';

/** Largest value a set carries: the /api body limit and the owner's are the same. */
export const MAX_SET_BYTES = 64 * 1024 * 1024;

/** The TTL of a set from its header (absent: 0, the group's own), or why it is not one. */
export function parseSetTtl(header: string | string[] | undefined): { ok: true; ttlMs: number } | { ok: false; message: string } {
  if (header === undefined || header === '') return { ok: true, ttlMs: 0 };
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!/^\d{1,15}$/.test(text)) return { ok: false, message: `${SET_TTL_HEADER} must be a whole number of milliseconds, got ${JSON.stringify(text)}` };
  return { ok: true, ttlMs: Number(text) };
}
