// api-handler.ts answers GET and HEAD /api?key=K[&group=G] on node:http (http-port.ts routes them here).
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ByteView } from '../engine/byteview.js';
import type { Group } from '../engine/group.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import type { PeerRing } from '../engine/peer-ring.js';
import { GeecacheError, httpStatusOf, UnknownGroupError } from '../errors.js';
import type { Recorder } from '../ops/latency-histogram.js';
import type { CacheMetrics } from '../ops/metrics.js';
import { cachedOrLoad } from './cached-or-load.js';
import { parseUrlQuery } from './query.js';
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
}

export function createApiHandler(options: ApiHandlerOptions): RequestListener {
  const { groups, metrics, logger, ring } = options;
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
  // Most answers are a 200 from the default group: that recorder is kept at hand, not looked up.
  let defaultOk: Recorder | undefined;
  const answered = (res: ServerResponse, group: Group, view: ByteView, headOnly: boolean, started: number) => {
    writeValue(res, view, 'application/octet-stream', headOnly);
    record(group === defaultGroup ? (defaultOk ??= recorderFor(group.name, 200)) : recorderFor(group.name, 200), started);
  };
  const reject = (res: ServerResponse, group: string, started: number, status: number, message: string) => {
    sendText(res, status, message);
    record(recorderFor(group, status), started);
  };
  const failed = (res: ServerResponse, group: Group, key: string, started: number, err: unknown) => {
    const { status, message } = httpStatusOf(err);
    if (!(err instanceof GeecacheError)) logger.error({ err, group: group.name, key }, 'unexpected error answering /api');
    else if (status >= 500) logger.warn({ group: group.name, key, err: message }, 'load failed');
    reject(res, group.name, started, status, message);
  };

  return (req, res) => {
    const started = performance.now();
    const query = parseUrlQuery(req.url ?? '');
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
    let answer: ByteView | Promise<ByteView>;
    try {
      answer = cachedOrLoad(group, key);
    } catch (err) {
      failed(res, group, key, started, err);
      return;
    }
    // A hit is answered synchronously: no promise, no closures, no extra turn of the event loop.
    if (answer instanceof ByteView) answered(res, group, answer, headOnly, started);
    else {
      answer.then(
        (view) => answered(res, group, view, headOnly, started),
        (err: unknown) => failed(res, group, key, started, err),
      );
    }
  };
}
