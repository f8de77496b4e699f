// peer-handler.ts routes the peer port, as http-port.ts routes the HTTP port: the peer protocol's paths
// and methods to their handlers, all on node:http without Express.
import type { IncomingMessage } from 'node:http';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { GUARDED_PEER_REQUESTS } from '../ops/metrics.js';
import type { PeerRing } from '../engine/peer-ring.js';
import { answerDebugRing, isDebugRing } from './debug-ring.js';
import { refusalStatus, type AdminCheck } from './admin-auth.js';
import { answerHandoff, type HandoffReceiver } from './handoff-handler.js';
import { createPeerBatchHandler, type BatchAnswerCounts } from './peer-batch-handler.js';
import { createPeerGetHandler } from './peer-get-handler.js';
import { createPeerInvalidateHandler } from './peer-invalidate-handler.js';
import { createPeerSetHandler } from './peer-set-handler.js';
import { HANDOFF_SEGMENT, PEEK_SEGMENT } from '../protocol/handoff.js';
import { pathOf } from './query.js';
import { sendText } from './responses.js';
import type { RequestListener } from './servers.js';
import type { PeerGetHandlerOptions } from './peer-get-handler.js';

/** The peer port's requests that need the peer token, when one is set. */
export type GuardedPeerRequest = (typeof GUARDED_PEER_REQUESTS)[number];

export interface PeerHandlerOptions extends Pick<PeerGetHandlerOptions, 'onLoadFailed'> {
  groups: GroupRegistry;
  basePath: string;
  /**
   * The peer token (GEECACHE_PEER_TOKEN, admin-auth.ts peerCheck): when set, peeks, handoffs and
   * invalidations must carry it (401 without, 403 wrong), and it alone authorizes invalidations.
   * Gets and batches never need it: a Go groupcache peer cannot send one, and the same values are
   * open on the API port anyway.
   */
  peerCheck?: AdminCheck;
  /** Who may invalidate without a peer token: a peer passes on the client's admin token. Default: nobody. */
  adminCheck?: AdminCheck;
  /** Told of each invalidation a peer asked for (`key` undefined: the whole group), after it was done. */
  onInvalidated?: (group: string, key: string | undefined) => void;
  /** Told of each value a peer stored here (a set forwarded to this owner). */
  onSet?: (group: string, key: string) => void;
  /** Who may hand values here when they leave; absent: handoffs are refused (peeks are answered). */
  handoff?: HandoffReceiver;
  /** Told of each request refused for want of the peer token, for the refusals metric. */
  onUnauthorized?: (request: GuardedPeerRequest) => void;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
  /** Serve GET /debug/ring with this ring's view (GEECACHE_DEBUG_RING=peer). Default: not served. */
  debugRing?: PeerRing;
  /** A batch answer's limits and counts (peer-batch-handler.ts). */
  stallTimeoutMs?: number;
  batchCounts?: BatchAnswerCounts;
}

/**
 * The peer port's request listener: GET and HEAD <basePath><group>/<key> (a value), POST
 * <basePath><group>/ (a batch), PUT <basePath><group>/<key> (a set), DELETE either (an invalidation), <basePath>~… (peeks and handoffs);
 * 404 outside <basePath>. A request here is always answered from this process's cache or a local
 * load, never forwarded. With `debugRing`, GET /debug/ring too.
 */
export function createPeerHandler(options: PeerHandlerOptions): RequestListener {
  const { groups, basePath, peerCheck } = options;
  const handoffPrefix = basePath + '~';
  const get = createPeerGetHandler(options);
  const batch = createPeerBatchHandler(options);
  // With a peer token, it and not the admin token authorizes a peer's invalidation or set: the admin token never leaves the pod that took it.
  const peerAuthorized = { ...options, adminCheck: peerCheck ? () => undefined : options.adminCheck };
  const invalidate = createPeerInvalidateHandler(peerAuthorized);
  const set = createPeerSetHandler(peerAuthorized);
  /** False (and answered 401/403) when a peer token is set and the request does not carry it. */
  const authorized = (req: IncomingMessage, res: Parameters<RequestListener>[1], request: GuardedPeerRequest): boolean => {
    const refused = peerCheck?.(req.headers.authorization);
    if (refused === undefined) return true;
    options.onUnauthorized?.(request);
    sendText(res, refusalStatus(req.headers.authorization), refused);
    return false;
  };
  return (req, res) => {
    const url = req.url ?? '';
    if (options.debugRing && isDebugRing(url)) return answerDebugRing(options.debugRing, req, res);
    // Not through a second Express app: it would re-parent requests to its own prototypes (message-classes.ts).
    if (!url.startsWith(basePath)) return sendText(res, 404, `no route for ${req.method ?? ''} ${pathOf(url)}`);
    if (url.startsWith(handoffPrefix)) {
      const request = req.method === 'GET' ? 'peek' : 'handoff';
      if (isHandoffPath(url, basePath) && !authorized(req, res, request)) return;
      if (answerHandoff(req, res, groups, basePath, options.handoff)) return;
    }
    const { method } = req;
    if (method === 'GET' || method === 'HEAD') get(req, res);
    else if (method === 'POST') batch(req, res);
    else if (method === 'DELETE') {
      if (authorized(req, res, 'invalidation')) invalidate(req, res);
    } else if (method === 'PUT') {
      if (authorized(req, res, 'set')) set(req, res);
    } else sendText(res, 405, 'only GET, POST (a batch), PUT (a set) and DELETE (an invalidation) are supported', { allow: 'GET, HEAD, POST, PUT, DELETE' });
  };
}

/** Whether a URL under <basePath>~ is a peek or a handoff (a group named "~x" is an ordinary get). */
function isHandoffPath(url: string, basePath: string): boolean {
  return url.startsWith(basePath + PEEK_SEGMENT) || url.startsWith(basePath + HANDOFF_SEGMENT);
}
