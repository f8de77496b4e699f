// http-port.test.ts: which handler the HTTP port gives each path and method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { createHttpPortHandler } from '../../src/http/http-port.js';
import type { RequestListener } from '../../src/http/servers.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { serve } from '../support/serve.js';

const named = (name: string): RequestListener => (req, res) => void res.writeHead(200).end(`${name} ${req.method} ${req.url}`);

async function port(withInvalidate: boolean) {
  const groups = new GroupRegistry();
  const ring = new PeerRing({ self: 'http://127.0.0.1:1', createClient: () => assert.fail('no peers') });
  const metrics = createMetrics(groups, ring, { defaultMetrics: false });
  const server = await serve(createHttpPortHandler({ get: named('get'), invalidate: withInvalidate ? named('invalidate') : undefined, app: named('app'), metrics }));
  return { api: request(server.url), metrics };
}

test('/api goes by method to its handler, every other path to the app', async () => {
  const { api } = await port(true);
  await api.get('/api?key=a').expect(200, 'get GET /api?key=a');
  await api.head('/api?key=a').expect(200);
  await api.delete('/api?key=a').expect(200, 'invalidate DELETE /api?key=a');
  await api.get('/API/?key=a').expect(200, 'get GET /API/?key=a');
  for (const path of ['/metrics', '/apis', '/api/x', '/healthz?api']) await api.get(path).expect(200, `app GET ${path}`);
  await api.post('/metrics').expect(200, 'app POST /metrics');
});

test('other methods on /api are 405 with Allow, and counted as the API counts its answers', async () => {
  const { api, metrics } = await port(true);
  await api.post('/api?key=a').expect(405, 'only GET and DELETE are supported\n').expect('allow', 'GET, HEAD, DELETE');
  const without = await port(false);
  await without.api.delete('/api?key=a').expect(405, 'only GET is supported\n').expect('allow', 'GET, HEAD');
  await without.api.put('/api').expect(405);
  assert.match(await metrics.registry.metrics(), /geecache_api_request_duration_seconds_count\{group="",code="405"\} 1/);
  assert.match(await without.metrics.registry.metrics(), /geecache_api_request_duration_seconds_count\{group="",code="405"\} 2/);
});
