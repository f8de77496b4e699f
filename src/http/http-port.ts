// http-port.ts routes the HTTP port: /api by method to its handlers on node:http, every other path to the
// Express app (metrics, health, debug). The hot route skips Express's routing (docs/performance.md).
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
  /** Every other path (app.ts). */
  app: RequestListener;
  /** Counts /api requests refused for their method, as the API handler counts its other answers. */
  metrics: CacheMetrics;
}

/** The /api path as Express would match it: any case, with or without a trailing slash. */
const API_PATH = /^\/api\/?$/i;

export function createHttpPortHandler(routes: HttpPortRoutes): RequestListener {
  const { get, invalidate, app, metrics } = routes;
  const allow = invalidate ? 'GET, HEAD, DELETE' : 'GET, HEAD';
  const refusal = invalidate ? 'only GET and DELETE are supported' : 'only GET is supported';
  return (req, res) => {
    const url = req.url ?? '';
    // The exact forms first: they are every request of a client that follows the README.
    if (url !== '/api' && !url.startsWith('/api?') && !API_PATH.test(pathOf(url))) return app(req, res);
    const { method } = req;
    if (method === 'GET' || method === 'HEAD') get(req, res);
    else if (method === 'DELETE' && invalidate) invalidate(req, res);
    else {
      const started = performance.now();
      sendText(res, 405, refusal, { allow });
      metrics.apiDuration.observe({ group: '', code: 405 }, (performance.now() - started) / 1000);
    }
  };
}
