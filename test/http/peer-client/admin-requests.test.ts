// admin-requests.test.ts: invalidations a peer client sends, and how their answers are read, against real servers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PeerAdminError } from '../../../src/errors.js';
import { HttpPeerClient } from '../../../src/http/peer-client.js';
import { serve } from '../../support/serve.js';

test('an invalidation is confirmed by 204 only: a 200 is a peer that took it for a get, anything else is its refusal', async () => {
  const answers: Record<string, [number, string]> = { '/_geecache/g/ok': [204, ''], '/_geecache/g/go': [200, 'value'], '/_geecache/g/no': [403, 'wrong token\n'] };
  const authorizations: Array<string | undefined> = [];
  const peer = await serve((req, res) => {
    authorizations.push(req.headers.authorization);
    const [status, body] = answers[req.url!] ?? [500, 'unexpected'];
    res.writeHead(status).end(body);
  });
  const client = new HttpPeerClient({ url: peer.url, adminToken: 'token-0123456789' });
  after(() => client.close());
  await client.invalidate('g', 'ok');
  await assert.rejects(client.invalidate('g', 'go'), (e: unknown) => e instanceof PeerAdminError && e.status === 200 && /not a geecache peer/.test(e.message));
  await assert.rejects(client.invalidate('g', 'no'), (e: unknown) => e instanceof PeerAdminError && e.status === 403 && e.message === 'answered 403: wrong token');
  assert.deepEqual(authorizations, Array(3).fill('Bearer token-0123456789'));
  assert.deepEqual(peer.requests, ['DELETE /_geecache/g/ok', 'DELETE /_geecache/g/go', 'DELETE /_geecache/g/no']);
  await client.invalidate('g', undefined).catch(() => {});
  assert.equal(peer.requests.at(-1), 'DELETE /_geecache/g/', 'without a key: the whole group');
});

test('without an admin token nothing is sent; an unreachable peer and a too-large answer are PeerAdminError', async () => {
  const peer = await serve((_req, res) => res.writeHead(204).end());
  const tokenless = new HttpPeerClient({ url: peer.url });
  after(() => tokenless.close());
  await assert.rejects(tokenless.invalidate('g', 'k'), (e: unknown) => e instanceof PeerAdminError && /no admin token/.test(e.message));
  assert.deepEqual(peer.requests, []);
  const unreachable = new HttpPeerClient({ url: 'http://127.0.0.1:1', adminToken: 't' });
  after(() => unreachable.close());
  await assert.rejects(unreachable.invalidate('g', 'k'), (e: unknown) => e instanceof PeerAdminError && /ECONNREFUSED/.test(e.message));
  const chatty = await serve((_req, res) => res.writeHead(403).end('x'.repeat(5000)));
  const client = new HttpPeerClient({ url: chatty.url, adminToken: 't', maxResponseBytes: 1000 });
  after(() => client.close());
  await assert.rejects(client.invalidate('g', 'k'), (e: unknown) => e instanceof PeerAdminError && /response larger than 1000 bytes/.test(e.message));
});
