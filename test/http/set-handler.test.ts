// set-handler.test.ts: PUT /api answered by the handler alone, on a ring of this pod and one real peer, and the
// owner's side of a forwarded set (peer-set-handler.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import request from 'supertest';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { HashRing } from '../../src/engine/ring.js';
import { adminCheck } from '../../src/http/admin-auth.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerSetHandler } from '../../src/http/peer-set-handler.js';
import { createSetHandler } from '../../src/http/set-handler.js';
import { serve } from '../support/serve.js';

const TOKEN = 'admin-token-0123456789';
const SELF = 'http://127.0.0.1:1';

async function setServer(peerAnswer: (method: string) => number = (method) => (method === 'PUT' ? 204 : 204)) {
  const bodies: Buffer[] = [];
  const peer = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.writeHead(peerAnswer(req.method ?? '')).end();
    });
  });
  const groups = new GroupRegistry();
  const scores = groups.create({ name: 'scores', cacheBytes: 1 << 20, ttlMs: 60_000, getter: async (key) => `value of ${key}` });
  const ring = new PeerRing({ self: SELF, createClient: (url) => new HttpPeerClient({ url, adminToken: TOKEN }) });
  ring.set(SELF, peer.url);
  after(() => ring.close());
  const server = await serve(createSetHandler({ groups, ring, adminCheck: adminCheck(TOKEN), logger: pino({ level: 'silent' }) }));
  const owned = new HashRing([SELF, peer.url]);
  const keyOwnedBy = (owner: string) => Array.from({ length: 1000 }, (_, i) => `k${i}`).find((key) => owned.ownerOf(key) === owner)!;
  return { api: request(server.url), scores, peer, bodies, keyOwnedBy };
}

test('a key this pod owns is stored here, with the TTL asked for capped by the group\'s; the peer drops its copy', async () => {
  const { api, scores, peer, keyOwnedBy } = await setServer();
  const key = keyOwnedBy(SELF);
  const before = Date.now();
  const res = await api.put(`/api?key=${key}&ttlMs=999999999`).set('authorization', `Bearer ${TOKEN}`).send(Buffer.from([0, 1, 2, 255])).expect(200);
  assert.equal(res.body.owner, SELF);
  assert.equal(res.body.reached, 1);
  const cached = scores.getCached(key)!;
  assert.deepEqual([...cached.toBytes()], [0, 1, 2, 255]);
  assert.ok(cached.expiresAt >= before + 60_000 && cached.expiresAt <= Date.now() + 60_000, 'capped at the group TTL');
  assert.deepEqual(peer.requests, [`DELETE /_geecache/scores/${key}`]);
  await api.put(`/api?key=${key}&ttlMs=1000`).set('authorization', `Bearer ${TOKEN}`).send('short').expect(200);
  assert.ok(scores.getCached(key)!.expiresAt <= Date.now() + 1000);
});

test('a key another pod owns goes to it over the peer port with the token; nothing is kept here', async () => {
  const { api, scores, peer, bodies, keyOwnedBy } = await setServer();
  const key = keyOwnedBy(peer.url);
  await scores.get(key); // this pod's fallback copy, which the set must drop
  const res = await api.put(`/api?key=${key}&ttlMs=5000`).set('authorization', `Bearer ${TOKEN}`).send('new').expect(200);
  assert.equal(res.body.owner, peer.url);
  assert.deepEqual(peer.requests, [`PUT /_geecache/scores/${key}`]);
  assert.equal(bodies[0]!.toString(), 'new');
  assert.equal(scores.getCached(key), undefined);
});

test('an owner that answers a PUT as a get (a Go groupcache peer) fails the set with 502 and tells nobody else', async () => {
  const { api, peer, keyOwnedBy } = await setServer(() => 200);
  const key = keyOwnedBy(peer.url);
  await api.put(`/api?key=${key}`).set('authorization', `Bearer ${TOKEN}`).send('new').expect(502, /not a geecache peer/);
  assert.deepEqual(peer.requests, [`PUT /_geecache/scores/${key}`]);
});

test('without the token 403; no key, a bad TTL 400; an unknown group 404', async () => {
  const { api, peer } = await setServer();
  await api.put('/api?key=a').send('x').expect(403, /wrong or missing admin token/);
  const auth = `Bearer ${TOKEN}`;
  await api.put('/api').set('authorization', auth).send('x').expect(400, /key is required/);
  await api.put('/api?key=a&ttlMs=soon').set('authorization', auth).send('x').expect(400, /ttlMs must be/);
  await api.put('/api?key=a&group=nope').set('authorization', auth).send('x').expect(404);
  assert.deepEqual(peer.requests, []);
});

test('the owner stores a forwarded set with its TTL header, 204; without the token 403', async () => {
  const groups = new GroupRegistry();
  const scores = groups.create({ name: 'scores', cacheBytes: 1 << 20, getter: async (key) => `value of ${key}` });
  const stored: string[] = [];
  const server = await serve(createPeerSetHandler({ groups, basePath: '/_geecache/', adminCheck: adminCheck(TOKEN), onSet: (group, key) => stored.push(`${group}/${key}`) }));
  const peer = request(server.url);
  await peer.put('/_geecache/scores/Tom').send('x').expect(403);
  await peer.put('/_geecache/scores/Tom').set('authorization', `Bearer ${TOKEN}`).set('geecache-ttl-ms', 'x').send('x').expect(400);
  await peer.put('/_geecache/nope/Tom').set('authorization', `Bearer ${TOKEN}`).send('x').expect(404);
  const before = Date.now();
  await peer.put('/_geecache/scores/Tom').set('authorization', `Bearer ${TOKEN}`).set('geecache-ttl-ms', '5000').send('999').expect(204);
  const cached = scores.getCached('Tom')!;
  assert.equal(cached.toString(), '999');
  assert.ok(cached.expiresAt >= before + 5000 && cached.expiresAt <= Date.now() + 5000);
  assert.deepEqual(stored, ['scores/Tom']);
});
