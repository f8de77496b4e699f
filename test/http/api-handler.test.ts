// api-handler.test.ts: GET and HEAD /api answered by the handler alone on a real loopback server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import request from 'supertest';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { NotFoundError } from '../../src/errors.js';
import { createApiHandler } from '../../src/http/api-handler.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { serve } from '../support/serve.js';

async function apiServer() {
  const groups = new GroupRegistry();
  const lookups: string[] = [];
  const scores = groups.create({
    name: 'scores',
    cacheBytes: 1 << 20,
    getter: async (key) => {
      lookups.push(key);
      if (key === 'missing') throw new NotFoundError(`${key} not exist`);
      return `value of ${key}`;
    },
  });
  groups.create({ name: 'other', cacheBytes: 1 << 20, getter: async (key) => `other ${key}` });
  const ring = new PeerRing({ self: 'http://127.0.0.1:1', createClient: () => assert.fail('a single-pod ring has no clients') });
  const metrics = createMetrics(groups, ring, { defaultMetrics: false });
  const server = await serve(createApiHandler({ groups, metrics, logger: pino({ level: 'silent' }), ring }));
  return { api: request(server.url), scores, lookups, metrics };
}

test('a miss is loaded once and counted as one get and one load; the hits after it load nothing', async () => {
  const { api, scores, lookups } = await apiServer();
  for (let i = 0; i < 3; i++) {
    const res = await api.get('/api?key=Tom').expect(200).expect('content-type', 'application/octet-stream');
    assert.equal(res.body.toString(), 'value of Tom');
  }
  assert.deepEqual(lookups, ['Tom']);
  const stats = scores.stats();
  assert.equal(stats.gets, 3);
  assert.equal(stats.loads, 1, 'the miss went to load() once, not through a second lookup');
  assert.equal(stats.mainHits, 2);
});

test('the default group is the first; group= picks another; HEAD sends the length without the body', async () => {
  const { api } = await apiServer();
  assert.equal((await api.get('/api?key=a&group=other').expect(200)).body.toString(), 'other a');
  const head = await api.head('/api?key=a&group=other').expect(200).expect('content-length', String('other a'.length));
  assert.equal(head.text ?? '', '');
});

test('every refusal has its status and one line of text, and is counted in the API histogram', async () => {
  const { api, metrics } = await apiServer();
  await api.get('/api').expect(400, 'key is required: /api?key=<key>[&group=<group>]\n');
  await api.get('/api?key=a&key=b').expect(400, 'give key and group at most once each\n');
  await api.get('/api?key=a&group=nope').expect(404, 'no such group: nope\n');
  await api.get(`/api?key=${'k'.repeat(2049)}`).expect(400, /longer than 2048 bytes/);
  await api.get('/api?key=missing').expect(404, 'missing not exist\n');
  const text = await metrics.registry.metrics();
  assert.match(text, /geecache_api_request_duration_seconds_count\{group="",code="400"\} 2/);
  assert.match(text, /geecache_api_request_duration_seconds_count\{group="",code="404"\} 1/);
  assert.match(text, /geecache_api_request_duration_seconds_count\{group="scores",code="400"\} 1/);
  assert.match(text, /geecache_api_request_duration_seconds_count\{group="scores",code="404"\} 1/);
});
