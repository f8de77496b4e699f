// peer-get-handler.ts answers a peer's GET <basePath><group>/<key> (groupcache's protocol) from this
// process's cache or a local load, never forwarded; peer-handler.ts routes it here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import type { Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, SourceError, UnknownGroupError } from '../errors.js';
import { encodeGetResponse, HEARTBEAT_HEADER, heartbeatInterval, parsePeerPath, PROTOBUF_CONTENT_TYPE } from '../protocol/get.js';
import { cachedOrLoad, ClientGoneError } from './cached-or-load.js';
import { sendError, sendText, writeBytes } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerGetHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
  /** Told of a load that failed here for a peer (the source's fault): the asking peer gets only a short message, the log the detail. */
  onLoadFailed?: (err: GeecacheError, req: IncomingMessage) => void;
}

/** GET and HEAD: the value as a protobuf GetResponse, with heartbeats while a miss loads. */
export function createPeerGetHandler(options: PeerGetHandlerOptions): RequestListener {
  const { groups, basePath, onUnexpectedError, onLoadFailed } = options;
  return (req, res) => {
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
      if (err instanceof ClientGoneError) return;
      if (!(err instanceof GeecacheError)) onUnexpectedError?.(err, req);
      else if (err instanceof SourceError) onLoadFailed?.(err, req);
      sendError(res, err);
    };
    let answer: ByteView | Promise<ByteView>;
    try {
      answer = cachedOrLoad(group, parsed.key, res, true);
    } catch (err) {
      fail(err);
      return;
    }
    // A hit is answered synchronously, as in api-handler.ts.
    if (answer instanceof ByteView) {
      writeGetResponse(res, group, parsed.key, answer, headOnly);
      return;
    }
    const heartbeat = processingHeartbeat(req, res);
    answer.then(
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
