import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { peerCheck } from '../../src/http/admin-auth.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerHandler } from '../../src/http/peer-handler.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE } from '../../src/protocol/handoff.js';
import { serve } from '../support/serve.js';

/** A peer to which `leaving` (a peer that left within the window) may hand values, `member` is still a member, and which asks for `token` when given one. */
async function receiver(leaving: string, token?: string, member = 'http://127.0.0.1:3') {
  const groups = new GroupRegistry();
  const refused: string[] = [];
  let loads = 0;
  const group = groups.create({ name: 'g', cacheBytes: 1 << 20, getter: async (key) => (loads++, `loaded ${key}`) });
  const peer = await serve(
    createPeerHandler({
      groups,
      basePath: '/_geecache/',
      peerCheck: peerCheck(token),
      onUnauthorized: (request) => refused.push(`${request}:token`),
      handoff: {
        handoffRefusal: (sender) => (sender === leaving ? undefined : sender === member ? 'member' : 'unknown'),
        ownsWithout: (_sender, key) => key !== 'not-mine',
        onRefused: (reason) => refused.push(`handoff:${reason}`),
      },
    }),
  );
  return { ...peer, group, refused, loads: () => loads };
}

test('a peek answers a cached copy (with its expiry) or 204, and never loads', async () => {
  const peer = await receiver('http://127.0.0.1:1');
  await peer.group.get('cached');
  // Peeks have a production budget of 50 ms by default: a machine busy with other tests can miss it.
  const client = new HttpPeerClient({ url: peer.url, peekTimeoutMs: 5000 });
  after(() => client.close());
  assert.equal(Buffer.from((await client.peek('g', 'cached'))!.value).toString(), 'loaded cached');
  assert.equal(await client.peek('g', 'absent'), undefined);
  assert.equal(peer.loads(), 1, 'only the get before loaded');
});

test('handed values are taken from a peer that left, at its own address, with the peer token; from nobody else, and each refusal is counted', async () => {
  const leaving = 'http://127.0.0.1:1';
  const peer = await receiver(leaving, 'peer-token-0123456789');
  const values = [
    { key: 'mine', value: Buffer.from('handed'), expiresAt: 0 },
    { key: 'not-mine', value: Buffer.from('x'), expiresAt: 0 },
  ];
  const client = new HttpPeerClient({ url: peer.url, self: leaving, peerToken: 'peer-token-0123456789' });
  after(() => client.close());
  assert.equal(await client.handOff('g', values), 1, 'only the key it owns without the sender');
  assert.equal((await peer.group.get('mine')).toString(), 'handed');
  assert.equal(peer.loads(), 0);

  const post = (headers: Record<string, string>) =>
    fetch(`${peer.url}/_geecache/~handoff/g/`, { method: 'POST', headers: { 'content-type': HANDOFF_CONTENT_TYPE, ...headers }, body: encodeHandoff(values) });
  const token = { authorization: 'Bearer peer-token-0123456789' };
  const refusals = [
    [await post({ 'geecache-peer': leaving }), 401, /wrong or missing peer token/],
    [await post({ authorization: 'Bearer wrong-token-0123456789', 'geecache-peer': leaving }), 403, /wrong or missing peer token/],
    [await post({ ...token, 'geecache-peer': 'http://127.0.0.1:3' }), 409, /still a member here/],
    [await post({ ...token, 'geecache-peer': 'http://127.0.0.1:2' }), 403, /only from peers that left/],
    [await post({ ...token, 'geecache-peer': 'http://127.0.0.9:1' }), 403, /sender's own address/],
    [await post({ ...token }), 403, /names its sender/],
  ] as const;
  for (const [answer, status, message] of refusals) {
    assert.equal(answer.status, status);
    assert.match(await answer.text(), message);
  }
  assert.deepEqual(peer.refused, ['handoff:token', 'handoff:token', 'handoff:not-leaving', 'handoff:not-a-peer', 'handoff:wrong-address', 'handoff:no-sender']);
  const stranger = new HttpPeerClient({ url: peer.url, self: 'http://127.0.0.1:7', peerToken: 'peer-token-0123456789' });
  after(() => stranger.close());
  await assert.rejects(stranger.handOff('g', values), /handoff answered 403/);
});

test('with a peer token, peeks and invalidations need it too (401 without, 403 wrong); gets do not', async () => {
  const peer = await receiver('http://127.0.0.1:1', 'peer-token-0123456789');
  await peer.group.get('cached');
  const peek = `${peer.url}/_geecache/~peek/g/cached`;
  assert.equal((await fetch(peek)).status, 401);
  assert.equal((await fetch(peek, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 403);
  const client = new HttpPeerClient({ url: peer.url, peekTimeoutMs: 5000, peerToken: 'peer-token-0123456789' });
  after(() => client.close());
  assert.equal(Buffer.from((await client.peek('g', 'cached'))!.value).toString(), 'loaded cached');

  const remove = `${peer.url}/_geecache/g/cached`;
  assert.equal((await fetch(remove, { method: 'DELETE' })).status, 401);
  assert.equal((await fetch(remove, { method: 'DELETE', headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 403);
  assert.equal((await fetch(`${peer.url}/_geecache/g/cached`)).status, 200, 'a get, as a Go groupcache peer sends it, needs no token');
  assert.equal(peer.loads(), 1, 'the refused invalidations dropped nothing');
  await client.invalidate('g', 'cached');
  assert.equal((await fetch(`${peer.url}/_geecache/g/cached`)).status, 200);
  assert.equal(peer.loads(), 2, 'the invalidation with the peer token dropped the copy');
  assert.deepEqual(peer.refused, ['peek:token', 'peek:token', 'invalidation:token', 'invalidation:token']);
});

test('with a peer token, a client sends it (never an admin token) on invalidations', async () => {
  const seen: Array<string | undefined> = [];
  const spy = await serve((req, res) => (seen.push(req.headers.authorization), res.writeHead(204).end()));
  const client = new HttpPeerClient({ url: spy.url, adminToken: 'admin-token-0123456789', peerToken: 'peer-token-0123456789' });
  after(() => client.close());
  await client.invalidate('g', 'k');
  await client.peek('g', 'k');
  assert.deepEqual(seen, ['Bearer peer-token-0123456789', 'Bearer peer-token-0123456789']);
});

test('a peer that knows no handoff (a Go groupcache peer answers 404) is peeked once and then left alone', async () => {
  const go = await serve((_req, res) => res.writeHead(404).end('no such group: ~peek\n'));
  const client = new HttpPeerClient({ url: go.url, self: 'http://127.0.0.1:1', peekTimeoutMs: 5000 });
  after(() => client.close());
  assert.equal(await client.peek('g', 'a'), undefined);
  assert.equal(await client.peek('g', 'b'), undefined);
  await assert.rejects(client.handOff('g', [{ key: 'a', value: Buffer.from('v'), expiresAt: 0 }]), /takes no handoff/);
  assert.deepEqual(go.requests, ['GET /_geecache/~peek/g/a']);
});
