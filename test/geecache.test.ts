// geecache.test.ts: the library's node inside a program's own servers: options checked where they enter, the peer
// handler mounted in Express next to the program's routes, stats.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { Geecache } from '../src/index.js';
import { freePort } from '../harness/ports.js';
import { serve } from './support/serve.js';

const getter = async (key: string) => `value of ${key}`;

test('bad options fail with a TypeError that names the option', () => {
  assert.throws(() => new Geecache({ groups: [] }), /groups must name at least one group/);
  assert.throws(() => new Geecache({ groups: [{ name: 'g', getter: 'x' as never }] }), /the getter of "g" must be a function/);
  assert.throws(() => new Geecache({ groups: [{ name: 'g', getter }, { name: 'g', getter }] }), /"g" is named twice/);
  assert.throws(() => new Geecache({ self: 'localhost:1', groups: [{ name: 'g', getter }] }), /^TypeError: self: "localhost:1"/);
  assert.throws(() => new Geecache({ peers: ['ftp://x'], groups: [{ name: 'g', getter }] }), /^TypeError: peers: "ftp:\/\/x"/);
  assert.throws(() => new Geecache({ peers: { kubernetes: { service: 'svc' } }, groups: [{ name: 'g', getter }] }), /self is required with Kubernetes peers/);
});

test('mounted in Express with listen: false, the peer middleware answers the peer protocol and passes everything else on', async () => {
  const port = await freePort();
  const node = new Geecache({ self: `http://127.0.0.1:${port}`, listen: false, groups: [{ name: 'scores', getter }] });
  after(() => node.close());
  await node.start();
  const app = express();
  app.use(node.peerMiddleware());
  app.get('/hello', (_req, res) => void res.send('the program\'s own route'));
  const server = await serve(app);
  const api = request(server.url);
  await api.get('/hello').expect(200, "the program's own route");
  const res = await api
    .get('/_geecache/scores/Tom')
    .buffer(true)
    .parse((answer, done) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .expect(200)
    .expect('content-type', 'application/x-protobuf');
  assert.ok((res.body as Buffer).includes('value of Tom'));
  assert.equal((await node.group().get('Tom')).toString(), 'value of Tom');
  const stats = node.stats();
  assert.deepEqual(stats.peers, [`http://127.0.0.1:${port}`]);
  assert.equal(stats.groups.scores?.localLoads, 1);
  assert.equal(stats.groups.scores?.serverRequests, 1);
  assert.match(await node.metrics(), /geecache_gets_total\{group="scores"\} 2/);
});
