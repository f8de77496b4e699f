// mget-handler.ts answers POST /api/mget?group=G (http-port.ts routes it here): many keys of one group in one
// request, each answered in a frame of protocol/batch.ts as soon as it is ready, with its own status.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ByteView } from '../engine/byteview.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import type { CacheMetrics } from '../ops/metrics.js';
import { MAX_KEY_BYTES } from '../engine/key.js';
import { BATCH_CONTENT_TYPE, decodeKeys } from '../protocol/batch.js';
import { MAX_MGET_ANSWER_BYTES, MAX_MGET_KEYS } from '../protocol/mget.js';
import { cachedOrLoad } from './cached-or-load.js';
import { FrameStream } from './frame-stream.js';
import { parseUrlQuery } from './query.js';
import { readBody } from './read-body.js';
import { sendError, sendText } from './responses.js';
import type { RequestListener } from './servers.js';
import { performance } from 'node:perf_hooks';


export interface MgetHandlerOptions {
  groups: GroupRegistry;
  metrics: CacheMetrics;
  logger: Logger;
  /** Most keys in one request. Default MAX_MGET_KEYS. */
  maxKeys?: number;
  /** Most value bytes in one answer. Default MAX_MGET_ANSWER_BYTES. */
  maxAnswerBytes?: number;
  /** How long the client may leave the answer unread before it is dropped (GEECACHE_STALL_TIMEOUT_MS). Default 30 s. */
  stallTimeoutMs?: number;
}

const USAGE = 'POST /api/mget[?group=<group>] with one key a line (text/plain), or keys as application/x-geecache-batch';

/** The keys of a body: one a line (a final newline or CR LF endings allowed), or the batch encoding. */
export function parseMgetKeys(body: Buffer, contentType: string | undefined, maxKeys: number): ReturnType<typeof decodeKeys> {
  if (contentType?.startsWith(BATCH_CONTENT_TYPE)) return decodeKeys(body, maxKeys);
  const text = body.toString('utf8');
  const lines = text === '' ? [] : text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length > maxKeys) return { ok: false, status: 413, message: `more than ${maxKeys} keys in one multi-get` };
  return { ok: true, keys: lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)) };
}

/**
 * Answers 200 with content-type application/x-geecache-batch and a body of frames, one per key in
 * the order they became ready: [u32 LE key index][u32 LE status][u32 LE length][bytes], the value
 * for 200, else the message a GET of that key would have had (404, 502, ...). Keys owned elsewhere
 * are asked for in the same turn, so the peer client sends each owner one batch.
 */
export function createMgetHandler(options: MgetHandlerOptions): RequestListener {
  const { groups, metrics, logger } = options;
  const maxKeys = options.maxKeys ?? MAX_MGET_KEYS;
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_MGET_ANSWER_BYTES;
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const reject = (res: ServerResponse, started: number, group: string, status: number, message: string) => {
    sendText(res, status, message);
    metrics.apiDuration.observe({ group, code: status }, (performance.now() - started) / 1000);
  };
  return (req, res) => {
    const started = performance.now();
    const query = parseUrlQuery(req.url ?? '');
    if (!query.ok) return reject(res, started, '', 400, query.message);
    if (query.key !== undefined) return reject(res, started, '', 400, `keys go in the body: ${USAGE}`);
    const group = query.group === undefined ? groups.list()[0] : groups.get(query.group);
    if (!group) return sendError(res, new UnknownGroupError(query.group ?? '(none configured)'));
    readBody(req, res, maxKeys * (MAX_KEY_BYTES + 4), 'key list', (body) => {
      const parsed = parseMgetKeys(body, req.headers['content-type'], maxKeys);
      if (!parsed.ok) return reject(res, started, group.name, parsed.status, parsed.message);
      const { keys } = parsed;
      metrics.mgets.inc({ group: group.name });
      // One frame per key as it is ready, as a peer's batch is answered: values uncopied, written only as fast as the client reads.
      const stream = new FrameStream(res, {
        maxValueBytes: maxAnswerBytes,
        stallTimeoutMs,
        full: { status: 413, message: `the answer would pass ${maxAnswerBytes} bytes of values: ask for this key again` },
      });
      const answered = (index: number, view: ByteView): void => {
        const sent = stream.value(index, ByteView.bytesForWrite(view), undefined);
        metrics.mgetKeys.inc({ group: group.name, code: sent ? 200 : 413 });
      };
      const failed = (index: number, err: unknown): void => {
        if (!(err instanceof GeecacheError)) logger.error({ err, group: group.name, key: keys[index] }, 'unexpected error answering /api/mget');
        const { status, message } = httpStatusOf(err);
        metrics.mgetKeys.inc({ group: group.name, code: status });
        stream.error(index, status, message);
      };
      // Every miss is asked for before any answer is awaited: the peer client batches keys asked in one turn.
      const loads: Array<Promise<void>> = [];
      keys.forEach((key, index) => {
        let answer: ByteView | Promise<ByteView>;
        try {
          answer = cachedOrLoad(group, key, res);
        } catch (err) {
          failed(index, err);
          return;
        }
        if (answer instanceof ByteView) answered(index, answer);
        else loads.push(answer.then((view) => answered(index, view), (err: unknown) => failed(index, err)));
      });
      const done = () => metrics.apiDuration.observe({ group: group.name, code: 200 }, (performance.now() - started) / 1000);
      const headers = ['content-type', BATCH_CONTENT_TYPE];
      if (loads.length === 0) {
        // Everything was cached: one body with its length.
        stream.start(headers, true);
        stream.end();
        return done();
      }
      stream.start(headers, false);
      void Promise.all(loads).then(() => {
        stream.end();
        done();
      });
    });
  };
}
