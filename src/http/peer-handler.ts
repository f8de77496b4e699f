// peer-handler.ts routes the peer port, as http-port.ts routes the HTTP port: the peer protocol's paths
// and methods to their handlers, all on node:http without Express.
import type { IncomingMessage } from 'node:http';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { AdminCheck } from './admin-auth.js';
import { answerHandoff, type HandoffReceiver } from './handoff-handler.js';
import { createPeerBatchHandler } from './peer-batch-handler.js';
import { createPeerGetHandler } from './peer-get-handler.js';
import { createPeerInvalidateHandler } from './peer-invalidate-handler.js';
import { pathOf } from './query.js';
import { sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Who may invalidate: a peer passes on the invalidation's bearer token (admin-auth.ts). Default: nobody. */
  adminCheck?: AdminCheck;
  /** Told of each invalidation a peer asked for (`key` undefined: the whole group), after it was done. */
  onInvalidated?: (group: string, key: string | undefined) => void;
  /** Who may hand values here when they leave; absent: handoffs are refused (peeks are answered). */
  handoff?: HandoffReceiver;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
}

/**
 * The peer port's request listener: GET and HEAD <basePath><group>/<key> (a value), POST
 * <basePath><group>/ (a batch), DELETE either (an invalidation), <basePath>~… (peeks and handoffs);
 * 404 outside <basePath>. A request here is always answered from this process's cache or a local
 * load, never forwarded.
 */
export function createPeerHandler(options: PeerHandlerOptions): RequestListener {
  const { groups, basePath } = options;
  const handoffPrefix = basePath + '~';
  const get = createPeerGetHandler(options);
  const batch = createPeerBatchHandler(options);
  const invalidate = createPeerInvalidateHandler(options);
  return (req, res) => {
    const url = req.url ?? '';
    // Not through a second Express app: it would re-parent requests to its own prototypes (message-classes.ts).
    if (!url.startsWith(basePath)) return sendText(res, 404, `no route for ${req.method ?? ''} ${pathOf(url)}`);
    if (url.startsWith(handoffPrefix) && answerHandoff(req, res, groups, basePath, options.handoff)) return;
    const { method } = req;
    if (method === 'GET' || method === 'HEAD') get(req, res);
    else if (method === 'POST') batch(req, res);
    else if (method === 'DELETE') invalidate(req, res);
    else sendText(res, 405, 'only GET, POST (a batch) and DELETE (an invalidation) are supported', { allow: 'GET, HEAD, POST, DELETE' });
  };
}
