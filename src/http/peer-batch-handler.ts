// peer-batch-handler.ts answers a peer's batch, POST <basePath><group>/ (protocol/batch.ts): each key from
// cache or a local load, each answer sent as soon as it is ready; peer-handler.ts routes it here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import type { Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import { BATCH_CONTENT_TYPE, decodeKeys, MAX_BATCH_ANSWER_BYTES, MAX_BATCH_BODY_BYTES, META_FORMAT, META_HEADER, parseBatchPath } from '../protocol/batch.js';
import { HEARTBEAT_HEADER, heartbeatInterval } from '../protocol/get.js';
import { cachedOrLoad, ClientGoneError } from './cached-or-load.js';
import { FrameStream, type FrameStreamOptions } from './frame-stream.js';
import { readBody } from './read-body.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';

export interface PeerBatchHandlerOptions {
  groups: GroupRegistry;
  basePath: string;
  /** Value bytes one batch answer may carry. Default MAX_BATCH_ANSWER_BYTES (64 MiB). */
  maxBatchAnswerBytes?: number;
  /** How long a client may leave an answer unread before it is destroyed. Default 30 s. */
  stallTimeoutMs?: number;
  /** Counted here as answers are cut or stall, for metrics. */
  batchCounts?: BatchAnswerCounts;
  /** Told of failures that are not the source's or the client's fault (bugs), for logging. */
  onUnexpectedError?: (err: unknown, req: IncomingMessage) => void;
}

/** What happened to batch answers that did not go out whole; all only ever grow. */
export interface BatchAnswerCounts {
  /** Answers past their byte budget: some keys were answered BATCH_ANSWER_FULL_STATUS. */
  cut: number;
  /** Keys answered BATCH_ANSWER_FULL_STATUS. */
  cutKeys: number;
  /** Answers destroyed because the client stopped reading them. */
  stalled: number;
}

export function createPeerBatchHandler(options: PeerBatchHandlerOptions): RequestListener {
  const { groups, basePath, onUnexpectedError } = options;
  const limits: FrameStreamOptions = {
    maxValueBytes: options.maxBatchAnswerBytes ?? MAX_BATCH_ANSWER_BYTES,
    stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
  };
  const counts = options.batchCounts ?? { cut: 0, cutKeys: 0, stalled: 0 };
  return (req, res) => {
    const groupName = parseBatchPath(basePath, req.url ?? '/');
    if (groupName === undefined) {
      sendText(res, 400, `expected POST ${basePath}<group>/ with a batch of keys`);
      return;
    }
    const group = groups.get(groupName);
    if (!group) sendError(res, new UnknownGroupError(groupName));
    else answerBatch(req, res, group, limits, counts, (err) => onUnexpectedError?.(err, req));
  };
}

/** A distinct key of the batch and every index it was named at. */
interface Asked {
  key: string;
  indices: number[];
}

/**
 * Reads the keys, then writes the frames of every cached key at once and each load's frames when
 * it finishes, so a slow key does not hold back the others. A key named more than once is looked up
 * or loaded once; each of its indices gets a frame of the same bytes, within the answer's budget.
 */
function answerBatch(
  req: IncomingMessage,
  res: ServerResponse,
  group: Group,
  limits: FrameStreamOptions,
  counts: BatchAnswerCounts,
  onUnexpectedError?: (err: unknown) => void,
): void {
  readBody(req, res, MAX_BATCH_BODY_BYTES, 'batch body', (body) => {
    const decoded = decodeKeys(body);
    if (!decoded.ok) {
      sendText(res, decoded.status, decoded.message);
      return;
    }
    const asked = new Map<string, Asked>();
    decoded.keys.forEach((key, index) => {
      const entry = asked.get(key);
      if (entry) entry.indices.push(index);
      else asked.set(key, { key, indices: [index] });
    });
    // Metadata goes only to clients that read it: an older client would take it for value bytes.
    const withMeta = req.headers[META_HEADER] === META_FORMAT;
    const headers = withMeta ? ['content-type', BATCH_CONTENT_TYPE, META_HEADER, META_FORMAT] : ['content-type', BATCH_CONTENT_TYPE];
    const stream = new FrameStream(res, limits);
    res.once('close', () => {
      if (stream.cut > 0) {
        counts.cut++;
        counts.cutKeys += stream.cut;
      }
      if (stream.stalled) counts.stalled++;
    });
    const answered = ({ key, indices }: Asked, view: ByteView) => {
      const bytes = ByteView.bytesForWrite(view);
      const meta = withMeta ? { expiresAt: view.expiresAt, minuteQps: group.peerRequestRate(key) } : undefined;
      for (const index of indices) stream.value(index, bytes, meta);
    };
    const failed = ({ indices }: Asked, err: unknown) => {
      if (err instanceof ClientGoneError) return;
      if (!(err instanceof GeecacheError)) onUnexpectedError?.(err);
      const { status, message } = httpStatusOf(err);
      for (const index of indices) stream.error(index, status, message);
    };
    const loads: Array<Promise<void>> = [];
    for (const entry of asked.values()) {
      let answer: ByteView | Promise<ByteView>;
      try {
        answer = cachedOrLoad(group, entry.key, res, true);
      } catch (err) {
        failed(entry, err);
        continue;
      }
      if (answer instanceof ByteView) answered(entry, answer);
      else {
        loads.push(
          answer.then(
            (view) => answered(entry, view),
            (err: unknown) => failed(entry, err),
          ),
        );
      }
    }
    if (loads.length === 0) {
      // Everything was cached: one body with its length, as a single GET is answered.
      stream.start(headers, true);
      stream.end();
      return;
    }
    stream.start(headers, false);
    // While keys load, a heartbeat frame every interval the client asked for: it then waits for a
    // slow source instead of taking this owner for gone.
    const heartbeatMs = heartbeatInterval(req.headers[HEARTBEAT_HEADER]);
    const heartbeat = heartbeatMs === undefined ? undefined : setInterval(() => stream.heartbeat(), heartbeatMs);
    res.once('close', () => clearInterval(heartbeat));
    void Promise.all(loads).then(() => {
      clearInterval(heartbeat);
      stream.end();
    });
  });
}
