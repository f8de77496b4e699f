// app.ts builds the HTTP port's Express app: metrics, health, debug, and the error answers (/api is routed before it, http-port.ts).
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { PeerRing } from '../engine/peer-ring.js';
import type { CacheMetrics } from '../ops/metrics.js';
import { parseUrlQuery } from './query.js';
import { sendText } from './responses.js';

export interface HttpAppOptions {
  metrics: CacheMetrics;
  ring: PeerRing;
  logger: Logger;
  /** Why the process is not ready, or undefined when it is. */
  notReadyReason: () => string | undefined;
}

function baseApp(): Express {
  const app = express();
  // An ETag on every value costs a hash per request and buys nothing for a cache API.
  app.set('etag', false);
  app.set('x-powered-by', false);
  return app;
}

function finishApp(app: Express, logger: Logger): Express {
  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send(`no route for ${req.method} ${req.path}\n`);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err, path: req.path }, 'unexpected error in request');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).type('text/plain').send('internal error\n');
  });
  return app;
}

export function createHttpApp(options: HttpAppOptions): Express {
  const { metrics, ring, logger, notReadyReason } = options;
  const app = baseApp();

  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(body);
    } catch (err) {
      next(err);
    }
  });

  // Liveness: the process answers. It never looks at peers or sources.
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });

  app.get('/readyz', (_req, res) => {
    const reason = notReadyReason();
    if (reason) res.status(503).type('text/plain').send(`not ready: ${reason}\n`);
    else res.type('text/plain').send('ready\n');
  });

  app.get('/debug/ring', (req, res) => {
    // The query is read as /api reads it, so a key /api refuses is refused here too.
    const query = parseUrlQuery(req.originalUrl);
    if (!query.ok) {
      sendText(res, 400, query.message);
      return;
    }
    const { key } = query;
    res.json({
      self: ring.self,
      peers: ring.peers,
      replicas: ring.replicas,
      // The window after the last membership change in which new owners peek and leavers hand over.
      handoff: ring.handoff,
      ...(key ? { key, owner: ring.ownerOf(key) ?? null } : {}),
    });
  });

  return finishApp(app, logger);
}
