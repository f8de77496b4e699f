// peer-handler.ts answers the peer protocol (<basePath><group>/<key>) straight on node:http, without Express.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import { FROM_PEER, type Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, UnknownGroupError } from '../errors.js';
import { encodeGetResponse, HEARTBEAT_HEADER, heartbeatInterval, parsePeerPath, PROTOBUF_CONTENT_TYPE } from '../protocol/get.js';
import { parseBatchPath } from '../protocol/batch.js';
import { adminCheck, type AdminCheck } from './admin-auth.js';
import { answerHandoff, type HandoffReceiver } from './handoff-handler.js';
import { answerBatch } from './peer-batch-handler.js';
import { sendError, sendText, writeBytes } from './responses.js';
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
 * Returns a request listener for the peer protocol. It runs before (and instead of)
 * Express on this hot path; see bench/ for what that buys. A request here is always
 * answered from this process's cache or a local load, never forwarded.
 */
export function createPeerHandler(options: PeerHandlerOptions): RequestListener {
  const { groups, basePath, onUnexpectedError } = options;
  const handoffPrefix = basePath + '~';
  return (req, res) => {
    if (req.url?.startsWith(handoffPrefix) && answerHandoff(req, res, groups, basePath, options.handoff)) return;
    if (req.method === 'DELETE') {
      invalidate(req, res, options);
      return;
    }
    if (req.method === 'POST') {
      const groupName = parseBatchPath(basePath, req.url ?? '/');
      if (groupName === undefined) {
        sendText(res, 400, `expected POST ${basePath}<group>/ with a batch of keys`);
        return;
      }
      const group = groups.get(groupName);
      if (!group) sendError(res, new UnknownGroupError(groupName));
      else answerBatch(req, res, group, (err) => onUnexpectedError?.(err, req));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'only GET, POST (a batch) and DELETE (an invalidation) are supported', { allow: 'GET, HEAD, POST, DELETE' });
      return;
    }
    const parsed = parsePeerPath(basePath, req.url ?? '/');
    if (!parsed.ok) {
      sendText(res, 400, parsed.message);
      return;
    }
    const group = groups.get(parsed.group);
    if (!group) {
      sendError(res, new UnknownGroupError(parsed.group));
      return;
    }
    const headOnly = req.method === 'HEAD';
    const fail = (err: unknown) => {
      if (!(err instanceof GeecacheError)) onUnexpectedError?.(err, req);
      sendError(res, err);
    };
    // A hit is answered synchronously, as in api-handler.ts.
    let cached: ByteView | undefined;
    try {
      cached = group.getCached(parsed.key, FROM_PEER);
    } catch (err) {
      fail(err);
      return;
    }
    if (cached) {
      writeGetResponse(res, group, parsed.key, cached, headOnly);
      return;
    }
    const heartbeat = processingHeartbeat(req, res);
    group.get(parsed.key, FROM_PEER).then(
      (view) => {
        clearInterval(heartbeat);
        writeGetResponse(res, group, parsed.key, view, headOnly);
      },
      (err: unknown) => {
        clearInterval(heartbeat);
        fail(err);
      },
    );
  };
}

/**
 * DELETE <basePath><group>/<key> drops the key's copies here; DELETE <basePath><group>/ empties the
 * group. Sent by the peer that took the client's invalidation, which tells every peer itself: this
 * one tells nobody. Answers 204, which only a geecache peer does.
 */
const nobody = adminCheck(undefined);

function invalidate(req: IncomingMessage, res: ServerResponse, options: PeerHandlerOptions): void {
  const refused = (options.adminCheck ?? nobody)(req.headers.authorization);
  if (refused !== undefined) {
    sendText(res, 403, refused);
    return;
  }
  const url = req.url ?? '/';
  let groupName = parseBatchPath(options.basePath, url);
  let key: string | undefined;
  if (groupName === undefined) {
    const parsed = parsePeerPath(options.basePath, url);
    if (!parsed.ok) {
      sendText(res, 400, parsed.message);
      return;
    }
    ({ group: groupName, key } = parsed);
  }
  const group = options.groups.get(groupName);
  if (!group) {
    sendError(res, new UnknownGroupError(groupName));
    return;
  }
  if (key === undefined) group.reset();
  else group.remove(key);
  options.onInvalidated?.(group.name, key);
  res.writeHead(204).end();
}

/**
 * While a miss loads, `102 Processing` every interval the client asked for (HEARTBEAT_HEADER), so
 * it can wait for a slow source instead of taking this owner for gone. Only clients that ask get
 * them: Go's client gives up after a few 1xx answers.
 */
function processingHeartbeat(req: IncomingMessage, res: ServerResponse): NodeJS.Timeout | undefined {
  const ms = heartbeatInterval(req.headers[HEARTBEAT_HEADER]);
  if (ms === undefined) return undefined;
  const timer = setInterval(() => {
    if (res.headersSent || res.destroyed) clearInterval(timer);
    else res.writeProcessing();
  }, ms);
  res.once('close', () => clearInterval(timer));
  return timer;
}

/** The value with its expiry and the key's rate of peer requests, which Go groupcache peers get too. */
function writeGetResponse(res: ServerResponse, group: Group, key: string, view: ByteView, headOnly: boolean): void {
  writeBytes(res, encodeGetResponse(ByteView.bytesForWrite(view), view.expiresAt, group.peerRequestRate(key)), PROTOBUF_CONTENT_TYPE, headOnly);
}

