// set-handler.ts answers PUT /api?key=K[&group=G][&ttlMs=N] (http-port.ts routes it here): the body stored
// as the key's value on its owner, every other peer's copy dropped (engine/set-everywhere.ts).
import type { Logger } from 'pino';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { PeerRing } from '../engine/peer-ring.js';
import { setEverywhere, type SetReport } from '../engine/set-everywhere.js';
import { keyProblem } from '../engine/group.js';
import { PeerAdminError, UnknownGroupError } from '../errors.js';
import { MAX_SET_BYTES } from '../protocol/set.js';
import type { AdminCheck } from './admin-auth.js';
import { parseUrlQuery, queryStart } from './query.js';
import { readBody } from './read-body.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface SetHandlerOptions {
  groups: GroupRegistry;
  ring: PeerRing;
  adminCheck: AdminCheck;
  logger: Logger;
  /** Largest value accepted; past it, 413. Default MAX_SET_BYTES (64 MiB). */
  maxValueBytes?: number;
  /** Told of each set once its owner stored it and every other peer was asked to drop its copy. */
  onSet?: (group: string, report: SetReport) => void;
}

const USAGE = 'PUT /api?key=<key>[&group=<group>][&ttlMs=<ms>] with the value as the body';

/**
 * Answers 200 with JSON naming the owner and how many of the other peers dropped their copies; 403
 * without the admin token; 502 when the owner could not store it (then nothing changed elsewhere).
 */
export function createSetHandler(options: SetHandlerOptions): RequestListener {
  const { groups, ring, logger } = options;
  const maxValueBytes = options.maxValueBytes ?? MAX_SET_BYTES;
  return (req, res) => {
    const refused = options.adminCheck(req.headers.authorization);
    if (refused !== undefined) return sendText(res, 403, refused.replace('invalidation is', 'set is'));
    const url = req.url ?? '';
    const query = parseUrlQuery(url);
    if (!query.ok) return sendText(res, 400, query.message);
    if (query.key === undefined) return sendText(res, 400, `key is required: ${USAGE}`);
    const problem = keyProblem(query.key);
    if (problem !== undefined) return sendText(res, 400, problem);
    const ttlText = new URLSearchParams(url.slice(queryStart(url))).get('ttlMs');
    if (ttlText !== null && !/^\d{1,15}$/.test(ttlText)) return sendText(res, 400, `ttlMs must be a whole number of milliseconds, got ${JSON.stringify(ttlText)}`);
    const ttlMs = ttlText === null ? 0 : Number(ttlText);
    const group = query.group === undefined ? groups.list()[0] : groups.get(query.group);
    if (!group) return sendError(res, new UnknownGroupError(query.group ?? '(none configured)'));
    const key = query.key;
    readBody(req, res, maxValueBytes, 'value', (body) => {
      setEverywhere(group, ring, key, body, { ttlMs }).then(
        (report) => {
          const fields = { group: group.name, key, bytes: body.byteLength, ...report };
          if (report.unreached.length > 0) logger.warn(fields, 'set, but some peers were not reached: they serve their old copies until these expire');
          else logger.info(fields, 'set');
          options.onSet?.(group.name, report);
          const answer = JSON.stringify(fields) + '\n';
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
        },
        (err: unknown) => {
          if (!(err instanceof PeerAdminError)) {
            logger.error({ err, group: group.name, key }, 'unexpected error setting');
            return sendError(res, err);
          }
          logger.warn({ group: group.name, key, owner: err.peer, err: err.message }, 'set failed: the owner did not store the value');
          // Which pod, and what it said, go to the log above: a client learns no addresses (SECURITY.md).
          // An owner that answered the PUT as a get (200) is a Go groupcache peer: that much the client may know.
          sendText(res, 502, `the key's owner did not store the value${err.status === 200 ? ': it is not a geecache peer' : ''}`);
        },
      );
    });
  };
}
