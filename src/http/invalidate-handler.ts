// invalidate-handler.ts answers DELETE /api (http-port.ts routes it here): a key (or a whole group's contents) removed on every peer.
import type { Logger } from 'pino';
import type { GroupRegistry } from '../engine/group-registry.js';
import { invalidateEverywhere, type InvalidationReport } from '../engine/invalidation.js';
import type { PeerRing } from '../engine/peer-ring.js';
import { UnknownGroupError } from '../errors.js';
import { keyProblem } from '../engine/group.js';
import type { AdminCheck } from './admin-auth.js';
import { parseUrlQuery, queryStart } from './query.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface InvalidateHandlerOptions {
  groups: GroupRegistry;
  ring: PeerRing;
  adminCheck: AdminCheck;
  logger: Logger;
  /** Told of each invalidation after every peer was asked. */
  onInvalidated?: (group: string, key: string | undefined, report: InvalidationReport) => void;
}

const USAGE = 'DELETE /api?key=<key>[&group=<group>] removes a key; DELETE /api?group=<group>&all=true empties a group';

/**
 * DELETE /api?key=K[&group=G] and DELETE /api?group=G&all=true, with Authorization: Bearer <token>.
 * Answers 200 with JSON saying how many of the other peers confirmed; 403 without the token.
 */
export function createInvalidateHandler(options: InvalidateHandlerOptions): RequestListener {
  const { groups, ring, logger } = options;
  return (req, res) => {
    const refused = options.adminCheck(req.headers.authorization);
    if (refused !== undefined) {
      sendText(res, 403, refused);
      return;
    }
    const url = req.url ?? '';
    const query = parseUrlQuery(url);
    if (!query.ok) {
      sendText(res, 400, query.message);
      return;
    }
    const all = new URLSearchParams(url.slice(queryStart(url))).get('all');
    const wholeGroup = all === 'true';
    if (all !== null && !wholeGroup) return sendText(res, 400, `all must be true, got ${JSON.stringify(all)}`);
    if (wholeGroup && query.key !== undefined) return sendText(res, 400, `give key or all=true, not both: ${USAGE}`);
    if (!wholeGroup && !query.key) return sendText(res, 400, `key is required: ${USAGE}`);
    // Emptying a group is never implied: it must be named.
    if (wholeGroup && query.group === undefined) return sendText(res, 400, `group is required with all=true: ${USAGE}`);
    const group = query.group === undefined ? groups.list()[0] : groups.get(query.group);
    if (!group) return sendError(res, new UnknownGroupError(query.group ?? '(none configured)'));
    const key = wholeGroup ? undefined : query.key!;
    // The key rules of a get: a key no get can ask for has nothing to remove.
    const problem = key === undefined ? undefined : keyProblem(key);
    if (problem !== undefined) return sendText(res, 400, problem);
    invalidateEverywhere(group, ring, key).then(
      (report) => {
        const fields = { group: group.name, ...(key === undefined ? { all: true } : { key }), ...report };
        if (report.unreached.length > 0) logger.warn(fields, 'invalidated, but some peers were not reached: they serve their copies until these expire');
        else logger.info(fields, 'invalidated');
        options.onInvalidated?.(group.name, key, report);
        const body = JSON.stringify(fields) + '\n';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      },
      (err: unknown) => {
        logger.error({ err, group: group.name, key }, 'unexpected error invalidating');
        sendError(res, err);
      },
    );
  };
}
