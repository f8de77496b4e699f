// peer-handler.ts answers the peer protocol (<basePath><group>/<key>) straight on node:http, without Express.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import { GeecacheError, httpStatusOf } from '../errors.js';
import type { GroupRegistry } from '../engine/group.js';
import { encodeGetResponse, parsePeerPath, PROTOBUF_CONTENT_TYPE } from '../protocol/get.js';
import { parseBatchPath } from '../protocol/batch.js';
import { answerBatch } from './peer-batch-handler.js';

export interface PeerHandlerOptions {
  registry: GroupRegistry;
  basePath: string;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
}

/**
 * Returns a request listener for the peer protocol. It runs before (and instead of)
 * Express on this hot path; see bench/ for what that buys. A request here is always
 * answered from this process's cache or a local load, never forwarded.
 */
export function createPeerHandler(options: PeerHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { registry, basePath, onUnexpectedError } = options;
  return (req, res) => {
    if (req.method === 'POST') {
      const groupName = parseBatchPath(basePath, req.url ?? '/');
      if (groupName === undefined) {
        sendText(res, 400, `expected POST ${basePath}<group>/ with a batch of keys`);
        return;
      }
      const group = registry.get(groupName);
      if (!group) sendText(res, 404, `no such group: ${groupName}`);
      else answerBatch(req, res, group, (err) => onUnexpectedError?.(err, req));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'only GET and POST (a batch) are supported', { allow: 'GET, HEAD, POST' });
      return;
    }
    const parsed = parsePeerPath(basePath, req.url ?? '/');
    if (!parsed.ok) {
      sendText(res, 400, parsed.message);
      return;
    }
    const group = registry.get(parsed.group);
    if (!group) {
      sendText(res, 404, `no such group: ${parsed.group}`);
      return;
    }
    const headOnly = req.method === 'HEAD';
    const fail = (err: unknown) => {
      if (!(err instanceof GeecacheError)) onUnexpectedError?.(err, req);
      const { status, message } = httpStatusOf(err);
      sendText(res, status, message);
    };
    // A hit is answered synchronously, as in api-handler.ts.
    let cached: ByteView | undefined;
    try {
      cached = group.getCached(parsed.key, FROM_PEER);
    } catch (err) {
      fail(err);
      return;
    }
    if (cached) writeGetResponse(res, cached, headOnly);
    else group.get(parsed.key, FROM_PEER).then((view) => writeGetResponse(res, view, headOnly), fail);
  };
}

const FROM_PEER = { fromPeer: true } as const;

function writeGetResponse(res: ServerResponse, view: ByteView, headOnly: boolean): void {
  writeBytes(res, encodeGetResponse(ByteView.bytesForWrite(view)), PROTOBUF_CONTENT_TYPE, headOnly);
}

/**
 * Writes a cached value with its length; the bytes go to the socket, never to user code. A small
 * cached value goes as latin1 text, which node:http sends in the header's write (byteview.ts).
 */
export function writeValue(res: ServerResponse, view: ByteView, contentType: string, headOnly: boolean): void {
  writeBytes(res, ByteView.textForWrite(view) ?? ByteView.bytesForWrite(view), contentType, headOnly);
}

/** `body` is bytes, or latin1 text (one character per byte). */
function writeBytes(res: ServerResponse, body: Uint8Array | string, contentType: string, headOnly: boolean): void {
  const text = typeof body === 'string';
  // The flat array form skips building and walking a headers object.
  res.writeHead(200, ['content-type', contentType, 'content-length', String(text ? body.length : body.byteLength)]);
  if (headOnly) res.end();
  else if (text) res.end(body, 'latin1');
  else res.end(body);
}

/** Writes a short plain-text answer, the way every error leaves our servers. */
export function sendText(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = message + '\n';
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
