// mget-handler.ts answers POST /api/mget?group=G (http-port.ts routes it here): many keys of one group in one
// request, each answered in a frame of protocol/batch.ts as soon as it is ready, with its own status.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ByteView } from '../engine/byteview.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import type { CacheMetrics } from '../ops/metrics.js';
import { MAX_KEY_BYTES } from '../engine/key.js';
import { BATCH_CONTENT_TYPE, decodeKeys, encodeFrame } from '../protocol/batch.js';
import { MAX_MGET_ANSWER_BYTES, MAX_MGET_KEYS } from '../protocol/mget.js';
import { cachedOrLoad } from './cached-or-load.js';
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
      let answerBytes = 0;
      const frameOf = (index: number, view: ByteView): Buffer => {
        if (answerBytes + view.byteLength > maxAnswerBytes) return failure(index, 413, `the answer would pass ${maxAnswerBytes} bytes of values: ask for this key again`);
        answerBytes += view.byteLength;
        metrics.mgetKeys.inc({ group: group.name, code: 200 });
        return encodeFrame(index, 200, ByteView.bytesForWrite(view));
      };
      const failure = (index: number, status: number, message: string): Buffer => {
        metrics.mgetKeys.inc({ group: group.name, code: status });
        return encodeFrame(index, status, Buffer.from(message, 'utf8'));
      };
      const failed = (index: number, err: unknown): Buffer => {
        if (!(err instanceof GeecacheError)) logger.error({ err, group: group.name, key: keys[index] }, 'unexpected error answering /api/mget');
        const { status, message } = httpStatusOf(err);
        return failure(index, status, message);
      };
      // Every miss is asked for before any answer is awaited: the peer client batches keys asked in one turn.
      const ready: Buffer[] = [];
      const loads: Array<Promise<Buffer>> = [];
      keys.forEach((key, index) => {
        let answer: ByteView | Promise<ByteView>;
        try {
          answer = cachedOrLoad(group, key, res);
        } catch (err) {
          ready.push(failed(index, err));
          return;
        }
        if (answer instanceof ByteView) ready.push(frameOf(index, answer));
        else loads.push(answer.then((view) => frameOf(index, view), (err: unknown) => failed(index, err)));
      });
      const first = Buffer.concat(ready);
      const done = () => metrics.apiDuration.observe({ group: group.name, code: 200 }, (performance.now() - started) / 1000);
      if (loads.length === 0) {
        res.writeHead(200, ['content-type', BATCH_CONTENT_TYPE, 'content-length', String(first.byteLength)]).end(first);
        return done();
      }
      res.writeHead(200, ['content-type', BATCH_CONTENT_TYPE]);
      if (first.byteLength > 0) res.write(first);
      else res.flushHeaders();
      let waiting = loads.length;
      for (const load of loads) {
        void load.then((frame) => {
          if (res.destroyed) return;
          res.write(frame);
          if (--waiting === 0) {
            res.end();
            done();
          }
        });
      }
    });
  };
}
