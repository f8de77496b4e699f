// admin-auth.ts checks the bearer tokens of the requests that change a cache: a client's invalidation (the
// admin token, API port), and on the peer port peeks, handoffs and invalidations (the peer token).
import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a request may not go on, or undefined when it may. */
export type AdminCheck = (authorization: string | undefined) => string | undefined;

/**
 * A check of `Authorization: Bearer <token>` against `token`, which `setting` holds and `what`
 * names in the refusal. The comparison is of SHA-256 digests in constant time, so neither the
 * length nor a prefix of the token leaks through response timing.
 */
export function bearerCheck(token: string, setting: string, what: string): AdminCheck {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) return `wrong or missing ${what}: send Authorization: Bearer <${setting}>`;
    return undefined;
  };
}

/** Who may invalidate: holders of GEECACHE_ADMIN_TOKEN; without a token, nobody. */
export function adminCheck(token: string | undefined): AdminCheck {
  if (!token) return () => 'invalidation is disabled: set GEECACHE_ADMIN_TOKEN (the chart: adminToken) and send it as Authorization: Bearer <token>';
  return bearerCheck(token, 'GEECACHE_ADMIN_TOKEN', 'admin token');
}

/**
 * Who may send the peer port's requests that change or reveal a cache (handoffs, invalidations,
 * peeks): holders of GEECACHE_PEER_TOKEN. Undefined without a token.
 */
export function peerCheck(token: string | undefined): AdminCheck | undefined {
  return token ? bearerCheck(token, 'GEECACHE_PEER_TOKEN', 'peer token') : undefined;
}

/** The status of a refused bearer check: 401 when no credential was sent, 403 when a wrong one was. */
export function refusalStatus(authorization: string | undefined): 401 | 403 {
  return authorization ? 403 : 401;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
