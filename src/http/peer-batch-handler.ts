// peer-batch-handler.ts answers a peer's batch, POST <basePath><group>/ (protocol/batch.ts): each key from
// cache or a local load, each answer sent as soon as it is ready; peer-handler.ts routes it here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import { FROM_PEER, type Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import {
  BATCH_CONTENT_TYPE,
  decodeKeys,
  encodeFrame,
  encodeValueFrame,
  HEARTBEAT_FRAME,
  MAX_BATCH_BODY_BYTES,
  META_FORMAT,
  META_HEADER,
  parseBatchPath,
} from '../protocol/batch.js';
import { HEARTBEAT_HEADER, heartbeatInterval } from '../protocol/get.js';
import { cachedOrLoad } from './cached-or-load.js';
import { readBody } from './read-body.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerBatchHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
}

export function createPeerBatchHandler(options: PeerBatchHandlerOptions): RequestListener {
  const { groups, basePath, onUnexpectedError } = options;
  return (req, res) => {
    const groupName = parseBatchPath(basePath, req.url ?? '/');
    if (groupName === undefined) {
      sendText(res, 400, `expected POST ${basePath}<group>/ with a batch of keys`);
      return;
    }
    const group = groups.get(groupName);
    if (!group) sendError(res, new UnknownGroupError(groupName));
    else answerBatch(req, res, group, (err) => onUnexpectedError?.(err, req));
  };
}

/**
 * Reads the keys, then writes the frames of every cached key in one chunk and each
 * load's frame when it finishes, so a slow key does not hold back the others.
 */
function answerBatch(req: IncomingMessage, res: ServerResponse, group: Group, onUnexpectedError?: (err: unknown) => void): void {
  readBody(req, res, MAX_BATCH_BODY_BYTES, 'batch body', (body) => {
    const decoded = decodeKeys(body);
    if (!decoded.ok) {
      sendText(res, decoded.status, decoded.message);
      return;
    }
    const { keys } = decoded;
    // Metadata goes only to clients that read it: an older client would take it for value bytes.
    const withMeta = req.headers[META_HEADER] === META_FORMAT;
    const valueFrame = (index: number, view: ByteView): Buffer =>
      withMeta
        ? encodeValueFrame(index, ByteView.bytesForWrite(view), { expiresAt: view.expiresAt, minuteQps: group.peerRequestRate(keys[index]!) })
        : encodeFrame(index, 200, ByteView.bytesForWrite(view));
    const headers = withMeta ? ['content-type', BATCH_CONTENT_TYPE, META_HEADER, META_FORMAT] : ['content-type', BATCH_CONTENT_TYPE];
    const ready: Buffer[] = [];
    const failed = (index: number, err: unknown): Buffer => {
      if (!(err instanceof GeecacheError)) onUnexpectedError?.(err);
      const { status, message } = httpStatusOf(err);
      return encodeFrame(index, status, Buffer.from(message, 'utf8'));
    };
    const loads: Array<Promise<Buffer>> = [];
    keys.forEach((key, index) => {
      let answer: ByteView | Promise<ByteView>;
      try {
        answer = cachedOrLoad(group, key, FROM_PEER);
      } catch (err) {
        ready.push(failed(index, err));
        return;
      }
      if (answer instanceof ByteView) ready.push(valueFrame(index, answer));
      else {
        loads.push(
          answer.then(
            (view) => valueFrame(index, view),
            (err: unknown) => failed(index, err),
          ),
        );
      }
    });
    const first = ready.length === 1 ? ready[0]! : Buffer.concat(ready);
    if (loads.length === 0) {
      // Everything was cached: one body with its length, as a single GET is answered.
      res.writeHead(200, [...headers, 'content-length', String(first.byteLength)]);
      res.end(first);
      return;
    }
    res.writeHead(200, headers);
    if (first.byteLength > 0) res.write(first);
    else res.flushHeaders();
    // While keys load, a heartbeat frame every interval the client asked for: it then waits for a
    // slow source instead of taking this owner for gone.
    const heartbeatMs = heartbeatInterval(req.headers[HEARTBEAT_HEADER]);
    const heartbeat = heartbeatMs === undefined ? undefined : setInterval(() => void (res.destroyed || res.write(HEARTBEAT_FRAME)), heartbeatMs);
    res.once('close', () => clearInterval(heartbeat));
    let waiting = loads.length;
    for (const load of loads) {
      void load.then((frame) => {
        if (res.destroyed) return;
        res.write(frame);
        if (--waiting === 0) {
          clearInterval(heartbeat);
          res.end();
        }
      });
    }
  });
}
