// api-handler.ts answers GET /api?key=K[&group=G] on node:http; Express mounts the same function.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ByteView } from '../engine/byteview.js';
import type { Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { PeerRing } from '../engine/peer-ring.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import type { Recorder } from '../ops/latency-histogram.js';
import type { CacheMetrics } from '../ops/metrics.js';
import { parseApiQuery } from './query.js';
import { sendText, writeValue } from './responses.js';
import type { RequestListener } from './servers.js';
// The module's binding, not the global: globalThis.performance is a getter, run twice per request.
import { performance } from 'node:perf_hooks';

export interface ApiHandlerOptions {
  groups: GroupRegistry;
  metrics: CacheMetrics;
  logger: Logger;
  /** For debug logs of the owner a key goes to. */
  ring?: PeerRing;
  /** Answers DELETE /api (invalidate-handler.ts); without it DELETE is not allowed. */
  invalidate?: RequestListener;
}

export function createApiHandler(options: ApiHandlerOptions): RequestListener {
  const { groups, metrics, logger, ring, invalidate } = options;
  const defaultGroup = groups.list()[0];
  // Read once: the level is fixed for the life of the process, and the check is on every request.
  const debugEnabled = logger.isLevelEnabled('debug');
  // Recorders by group name, then status code: the hot path does two Map lookups and no string
  // building or label objects. Both keys are bounded (configured groups or '', and status codes).
  const recorders = new Map<string, Map<number, Recorder>>();
  const recorderFor = (group: string, status: number): Recorder => {
    let byStatus = recorders.get(group);
    if (!byStatus) recorders.set(group, (byStatus = new Map()));
    let recorder = byStatus.get(status);
    if (!recorder) byStatus.set(status, (recorder = metrics.apiDuration.child({ group, code: status })));
    return recorder;
  };
  const record = (recorder: Recorder, started: number) => recorder.observe((performance.now() - started) / 1000);
  const observe = (group: string, status: number, started: number) => record(recorderFor(group, status), started);
  // Most answers are a 200 from the default group: that recorder is kept at hand, not looked up.
  let defaultOk: Recorder | undefined;
  const observeOk = (group: Group, started: number) =>
    record(group === defaultGroup ? (defaultOk ??= recorderFor(group.name, 200)) : recorderFor(group.name, 200), started);
  const reject = (res: ServerResponse, group: string, started: number, status: number, message: string) => {
    sendText(res, status, message);
    observe(group, status, started);
  };
  const failed = (res: ServerResponse, group: Group, key: string, started: number, err: unknown) => {
    const { status, message } = httpStatusOf(err);
    if (!(err instanceof GeecacheError)) logger.error({ err, group: group.name, key }, 'unexpected error answering /api');
    else if (status >= 500) logger.warn({ group: group.name, key, err: message }, 'load failed');
    reject(res, group.name, started, status, message);
  };

  return (req, res) => {
    const started = performance.now();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (req.method === 'DELETE' && invalidate) {
        invalidate(req, res);
        return;
      }
      res.setHeader('allow', invalidate ? 'GET, HEAD, DELETE' : 'GET, HEAD');
      reject(res, '', started, 405, invalidate ? 'only GET and DELETE are supported' : 'only GET is supported');
      return;
    }
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const query = parseApiQuery(url, queryAt === -1 ? url.length : queryAt + 1);
    if (!query.ok) {
      reject(res, '', started, 400, query.message);
      return;
    }
    const { key, group: groupName } = query;
    if (!key) {
      reject(res, '', started, 400, 'key is required: /api?key=<key>[&group=<group>]');
      return;
    }
    const group = groupName === undefined ? defaultGroup : groups.get(groupName);
    if (!group) {
      reject(res, '', started, 404, new UnknownGroupError(groupName ?? '(none configured)').message);
      return;
    }
    if (ring && debugEnabled) {
      logger.debug({ group: group.name, key, owner: ring.ownerOf(key) ?? ring.self }, 'picked owner');
    }
    const headOnly = req.method === 'HEAD';
    // A hit is answered synchronously: no promise, no closures, no extra turn of the event loop.
    let cached: ByteView | undefined;
    try {
      cached = group.getCached(key);
    } catch (err) {
      failed(res, group, key, started, err);
      return;
    }
    if (cached) {
      writeValue(res, cached, 'application/octet-stream', headOnly);
      observeOk(group, started);
      return;
    }
    group.get(key).then(
      (view) => {
        writeValue(res, view, 'application/octet-stream', headOnly);
        observeOk(group, started);
      },
      (err: unknown) => failed(res, group, key, started, err),
    );
  };
}
