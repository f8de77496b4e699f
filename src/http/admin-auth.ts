// admin-auth.ts checks the bearer token that invalidation requests carry, on the API port and the peer port alike.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a request may not invalidate, or undefined when it may. */
export type AdminCheck = (authorization: string | undefined) => string | undefined;

/**
 * A check against `token` (GEECACHE_ADMIN_TOKEN). Without a token nothing may invalidate. The
 * comparison is of SHA-256 digests in constant time, so neither the length nor a prefix of the
 * token leaks through response timing.
 */
export function adminCheck(token: string | undefined): AdminCheck {
  if (!token) return () => 'invalidation is disabled: set GEECACHE_ADMIN_TOKEN (the chart: adminToken) and send it as Authorization: Bearer <token>';
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) return 'wrong or missing admin token: send Authorization: Bearer <GEECACHE_ADMIN_TOKEN>';
    return undefined;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
