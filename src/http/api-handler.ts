// api-handler.ts answers GET /api?key=K[&group=G] on node:http; Express mounts the same function.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { ByteView } from '../byteview.js';
import { GeecacheError, httpStatusOf } from '../errors.js';
import type { Group, GroupRegistry } from '../group.js';
import type { CacheMetrics } from '../metrics.js';
import type { PeerPool } from '../pool.js';
import { sendText, writeValue } from './peer-handler.js';

export interface ApiHandlerOptions {
  registry: GroupRegistry;
  metrics: CacheMetrics;
  logger: Logger;
  /** For debug logs of the owner a key goes to. */
  pool?: PeerPool;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createApiHandler(options: ApiHandlerOptions): RequestListener {
  const { registry, metrics, logger, pool } = options;
  const defaultGroup = registry.list()[0];

  const finish = (res: ServerResponse, group: string, started: number, status: number, message?: string) => {
    if (message !== undefined) sendText(res, status, message);
    metrics.apiDuration.observe({ group, code: status }, (performance.now() - started) / 1000);
  };

  return (req, res) => {
    const started = performance.now();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      finish(res, '', started, 405, 'only GET is supported');
      return;
    }
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const query = queryAt === -1 ? {} : parseQuery(url.slice(queryAt + 1));
    const { key, group: groupName } = query;
    if (Array.isArray(key) || Array.isArray(groupName)) {
      finish(res, '', started, 400, 'give key and group at most once each');
      return;
    }
    if (!key) {
      finish(res, '', started, 400, 'key is required: /api?key=<key>[&group=<group>]');
      return;
    }
    let group: Group | undefined;
    if (groupName === undefined) group = defaultGroup;
    else group = registry.get(groupName);
    if (!group) {
      finish(res, '', started, 404, `no such group: ${groupName ?? '(none configured)'}`);
      return;
    }
    if (pool && logger.isLevelEnabled('debug')) {
      logger.debug({ group: group.name, key, owner: pool.ownerOf(key) ?? pool.self }, 'picked owner');
    }
    const name = group.name;
    const answer = (view: ByteView) => {
      writeValue(res, view, 'application/octet-stream', req.method === 'HEAD');
      finish(res, name, started, 200);
    };
    const fail = (err: unknown) => {
      const { status, message } = httpStatusOf(err);
      if (!(err instanceof GeecacheError)) logger.error({ err, group: name, key }, 'unexpected error answering /api');
      else if (status >= 500) logger.warn({ group: name, key, err: message }, 'load failed');
      finish(res, name, started, status, message);
    };
    // A hit is answered synchronously: no promise, no extra turn of the event loop.
    let cached: ByteView | undefined;
    try {
      cached = group.getCached(key);
    } catch (err) {
      fail(err);
      return;
    }
    if (cached) answer(cached);
    else group.get(key).then(answer, fail);
  };
}
