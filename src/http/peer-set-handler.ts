// peer-set-handler.ts answers a peer's PUT <basePath><group>/<key> (protocol/set.ts): the value stored
// here, the key's owner, and told to nobody; the peer that took the client's set tells the others.
import type { GroupRegistry } from '../engine/group-registry.js';
import { UnknownGroupError } from '../errors.js';
import { parsePeerPath } from '../protocol/get.js';
import { MAX_SET_BYTES, parseSetTtl, SET_TTL_HEADER } from '../protocol/set.js';
import { adminCheck, type AdminCheck } from './admin-auth.js';
import { readBody } from './read-body.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerSetHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Who may set: the same check as a peer's invalidation (peer-invalidate-handler.ts). Default: nobody. */
  adminCheck?: AdminCheck;
  /** Told of each value a peer stored here. */
  onSet?: (group: string, key: string) => void;
}

const nobody = adminCheck(undefined);

/** Answers 204 once stored, which only a geecache peer does; 403 without the token. */
export function createPeerSetHandler(options: PeerSetHandlerOptions): RequestListener {
  const { groups, basePath, onSet } = options;
  const check = options.adminCheck ?? nobody;
  return (req, res) => {
    const refused = check(req.headers.authorization);
    if (refused !== undefined) return sendText(res, 403, refused);
    const parsed = parsePeerPath(basePath, req.url ?? '/');
    if (!parsed.ok) return sendText(res, 400, parsed.message);
    const group = groups.get(parsed.group);
    if (!group) return sendError(res, new UnknownGroupError(parsed.group));
    const ttl = parseSetTtl(req.headers[SET_TTL_HEADER]);
    if (!ttl.ok) return sendText(res, 400, ttl.message);
    readBody(req, res, MAX_SET_BYTES, 'value', (body) => {
      try {
        group.set(parsed.key, body, { ttlMs: ttl.ttlMs });
      } catch (err) {
        return sendError(res, err);
      }
      onSet?.(group.name, parsed.key);
      res.writeHead(204).end();
    });
  };
}
