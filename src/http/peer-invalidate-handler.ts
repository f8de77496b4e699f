// peer-invalidate-handler.ts answers a peer's DELETE: the key (or the group's contents) dropped here alone.
import type { GroupRegistry } from '../engine/group-registry.js';
import { UnknownGroupError } from '../errors.js';
import { parseBatchPath } from '../protocol/batch.js';
import { parsePeerPath } from '../protocol/get.js';
import { adminCheck, type AdminCheck } from './admin-auth.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerInvalidateHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Who may invalidate: a peer passes on the invalidation's bearer token (admin-auth.ts). Default: nobody. */
  adminCheck?: AdminCheck;
  /** Told of each invalidation a peer asked for (`key` undefined: the whole group), after it was done. */
  onInvalidated?: (group: string, key: string | undefined) => void;
}

const nobody = adminCheck(undefined);

/**
 * DELETE <basePath><group>/<key> drops the key's copies here; DELETE <basePath><group>/ empties the
 * group. Sent by the peer that took the client's invalidation, which tells every peer itself: this
 * one tells nobody. Answers 204, which only a geecache peer does.
 */
export function createPeerInvalidateHandler(options: PeerInvalidateHandlerOptions): RequestListener {
  const { groups, basePath, onInvalidated } = options;
  const check = options.adminCheck ?? nobody;
  return (req, res) => {
    const refused = check(req.headers.authorization);
    if (refused !== undefined) {
      sendText(res, 403, refused);
      return;
    }
    const url = req.url ?? '/';
    let groupName = parseBatchPath(basePath, url);
    let key: string | undefined;
    if (groupName === undefined) {
      const parsed = parsePeerPath(basePath, url);
      if (!parsed.ok) {
        sendText(res, 400, parsed.message);
        return;
      }
      ({ group: groupName, key } = parsed);
    }
    const group = groups.get(groupName);
    if (!group) {
      sendError(res, new UnknownGroupError(groupName));
      return;
    }
    if (key === undefined) group.reset();
    else group.remove(key);
    onInvalidated?.(group.name, key);
    res.writeHead(204).end();
  };
}
