// invalidate-handler.test.ts: DELETE /api answered by the handler alone, on a ring of this pod and one real peer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import request from 'supertest';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { adminCheck } from '../../src/http/admin-auth.js';
import { createInvalidateHandler } from '../../src/http/invalidate-handler.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { serve } from '../support/serve.js';

const TOKEN = 'admin-token-0123456789';

async function invalidateServer() {
  // The other peer confirms every invalidation, as a geecache peer does.
  const peer = await serve((_req, res) => res.writeHead(204).end());
  const groups = new GroupRegistry();
  const scores = groups.create({ name: 'scores', cacheBytes: 1 << 20, getter: async (key) => `value of ${key}` });
  groups.create({ name: 'other', cacheBytes: 1 << 20, getter: async (key) => key });
  const ring = new PeerRing({ self: 'http://127.0.0.1:1', createClient: (url) => new HttpPeerClient({ url, adminToken: TOKEN }) });
  ring.set('http://127.0.0.1:1', peer.url);
  after(() => ring.close());
  const told: string[] = [];
  const server = await serve(
    createInvalidateHandler({
      groups,
      ring,
      adminCheck: adminCheck(TOKEN),
      logger: pino({ level: 'silent' }),
      onInvalidated: (group, key, report) => told.push(`${group} ${key ?? '*'} ${report.reached}/${report.peers}`),
    }),
  );
  return { api: request(server.url), scores, peer, told };
}

test('a key is removed here and on every peer; the answer says how many confirmed', async () => {
  const { api, scores, peer, told } = await invalidateServer();
  await scores.get('Tom');
  assert.ok(scores.getCached('Tom'));
  const res = await api.delete('/api?key=Tom').set('authorization', `Bearer ${TOKEN}`).expect(200).expect('content-type', 'application/json');
  assert.deepEqual(res.body, { group: 'scores', key: 'Tom', peers: 1, reached: 1, unreached: [] });
  assert.equal(scores.getCached('Tom'), undefined);
  assert.deepEqual(peer.requests, ['DELETE /_geecache/scores/Tom']);
  await api.delete('/api?group=other&all=true').set('authorization', `Bearer ${TOKEN}`).expect(200);
  assert.equal(peer.requests.at(-1), 'DELETE /_geecache/other/');
  assert.deepEqual(told, ['scores Tom 1/1', 'other * 1/1']);
});

test('without the token 403; a request that names nothing, or too much, 400; an unknown group 404; nothing sent to peers', async () => {
  const { api, peer, told } = await invalidateServer();
  await api.delete('/api?key=Tom').expect(403, /wrong or missing admin token/);
  await api.delete('/api?key=Tom').set('authorization', 'Bearer wrong').expect(403);
  const auth = `Bearer ${TOKEN}`;
  await api.delete('/api').set('authorization', auth).expect(400, /key is required/);
  await api.delete('/api?key=a&all=true&group=scores').set('authorization', auth).expect(400, /not both/);
  await api.delete('/api?all=true').set('authorization', auth).expect(400, /group is required with all=true/);
  await api.delete('/api?group=scores&all=yes').set('authorization', auth).expect(400, 'all must be true, got "yes"\n');
  await api.delete(`/api?key=${'k'.repeat(2049)}`).set('authorization', auth).expect(400, /longer than 2048 bytes/);
  await api.delete('/api?key=a&group=nope').set('authorization', auth).expect(404, 'no such group: nope\n');
  assert.deepEqual(peer.requests, []);
  assert.deepEqual(told, []);
});
