// answers.test.ts: what a peer's status stands for, through a client and a real server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPeerClient } from '../../../src/http/peer-client.js';
import { NotFoundError, PeerRefusedError, PeerUnavailableError, SourceError } from '../../../src/errors.js';
import { errorForStatus, frameAnswer } from '../../../src/http/peer-client/answers.js';
import { serve } from '../../support/serve.js';

test('maps 404 to NotFoundError, 502 to SourceError, other 4xx to PeerRefusedError, 5xx to PeerUnavailableError', async () => {
  const peer = await serve((req, res) => {
    const status = Number(req.url!.split('/').pop());
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}\n`);
  });
  const client = new HttpPeerClient({ url: peer.url });
  after(() => client.close());
  await assert.rejects(client.get('g', '404'), (e: unknown) => e instanceof NotFoundError && e.message === 'answer 404');
  await assert.rejects(client.get('g', '502'), (e: unknown) => e instanceof SourceError && e.status === 502);
  await assert.rejects(client.get('g', '504'), (e: unknown) => e instanceof SourceError && e.status === 504);
  for (const status of [500, 503]) {
    await assert.rejects(
      client.get('g', String(status)),
      (e: unknown) => e instanceof PeerUnavailableError && e.status === status && e.message.includes(`answer ${status}`),
    );
  }
  // The owner's verdict on the request: never a reason to load the key elsewhere.
  for (const status of [400, 414, 431, 403]) {
    await assert.rejects(
      client.get('g', String(status)),
      (e: unknown) => e instanceof PeerRefusedError && e.status === status && e.message.includes(`answer ${status}`),
    );
  }
});

test("a batch frame: its status mapped as a GET's, its metadata split off only when the owner sends it", () => {
  assert.ok(errorForStatus('http://p', 404, Buffer.alloc(0)) instanceof NotFoundError);
  assert.match(errorForStatus('http://p', 500, Buffer.alloc(0)).message, /answered 500: status 500/);
  assert.deepEqual(frameAnswer('http://p', 200, Buffer.from('bare'), false), { value: Buffer.from('bare'), expiresAt: 0 });
  assert.throws(() => frameAnswer('http://p', 200, Buffer.from('ab'), true), (e: unknown) => e instanceof PeerUnavailableError && /too short/.test(e.message));
});
