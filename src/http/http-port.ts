// http-port.ts routes the HTTP port: /api by method to its handlers on node:http, every other path to the
// Express app (metrics, health, debug). The hot route skips Express's routing (docs/performance.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheMetrics } from '../ops/metrics.js';
import { pathOf } from './query.js';
import { sendText } from './responses.js';
import type { RequestListener } from './servers.js';
import { performance } from 'node:perf_hooks';

export interface HttpPortRoutes {
  /** GET and HEAD /api (api-handler.ts). */
  get: RequestListener;
  /** DELETE /api (invalidate-handler.ts); absent: DELETE is refused like any other method. */
  invalidate?: RequestListener;
  /** PUT /api (set-handler.ts); absent: PUT is refused like any other method. */
  set?: RequestListener;
  /** POST /api/mget (mget-handler.ts); absent: the path goes to the app like any other. */
  mget?: RequestListener;
  /** Every other path (app.ts). */
  app: RequestListener;
  /** Counts /api requests refused for their method, as the API handler counts its other answers. */
  metrics: CacheMetrics;
}

/** The /api path as Express would match it: any case, with or without a trailing slash. */
const API_PATH = /^\/api\/?$/i;
const MGET_PATH = /^\/api\/mget\/?$/i;

function mgetRoute(mget: RequestListener, req: IncomingMessage, res: ServerResponse, metrics: CacheMetrics): void {
  if (req.method === 'POST') return mget(req, res);
  const started = performance.now();
  sendText(res, 405, 'only POST is supported: POST /api/mget?group=<group> with one key a line', { allow: 'POST' });
  metrics.apiDuration.observe({ group: '', code: 405 }, (performance.now() - started) / 1000);
}

export function createHttpPortHandler(routes: HttpPortRoutes): RequestListener {
  const { get, invalidate, set, mget, app, metrics } = routes;
  const methods = ['GET', ...(set ? ['PUT'] : []), ...(invalidate ? ['DELETE'] : [])];
  const allow = ['GET', 'HEAD', ...methods.slice(1)].join(', ');
  const refusal = methods.length === 1 ? 'only GET is supported' : `only ${methods.slice(0, -1).join(', ')} and ${methods.at(-1)!} are supported`;
  return (req, res) => {
    const url = req.url ?? '';
    // The exact forms first: they are every request of a client that follows the README.
    if (url !== '/api' && !url.startsWith('/api?') && !API_PATH.test(pathOf(url))) {
      if (mget && MGET_PATH.test(pathOf(url))) return mgetRoute(mget, req, res, metrics);
      return app(req, res);
    }
    const { method } = req;
    if (method === 'GET' || method === 'HEAD') get(req, res);
    else if (method === 'DELETE' && invalidate) invalidate(req, res);
    else if (method === 'PUT' && set) set(req, res);
    else {
      const started = performance.now();
      sendText(res, 405, refusal, { allow });
      metrics.apiDuration.observe({ group: '', code: 405 }, (performance.now() - started) / 1000);
    }
  };
}
