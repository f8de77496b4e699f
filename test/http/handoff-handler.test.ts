import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { bearerCheck } from '../../src/http/admin-auth.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerHandler } from '../../src/http/peer-handler.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE } from '../../src/protocol/handoff.js';
import { serve } from '../support/serve.js';

/** A peer whose ring has one other member, `member`, and which asks handoffs for `token` when given one. */
async function receiver(member: string, token?: string) {
  const groups = new GroupRegistry();
  let loads = 0;
  const group = groups.create({ name: 'g', cacheBytes: 1 << 20, getter: async (key) => (loads++, `loaded ${key}`) });
  const peer = await serve(
    createPeerHandler({
      groups,
      basePath: '/_geecache/',
      handoff: {
        acceptsHandoffFrom: (sender) => sender === member,
        ownsWithout: (_sender, key) => key !== 'not-mine',
        tokenCheck: token ? bearerCheck(token, 'GEECACHE_PEER_TOKEN', 'peer token') : undefined,
      },
    }),
  );
  return { ...peer, group, loads: () => loads };
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

test('handed values are taken from a ring member at its own address, with the peer token when one is set; from nobody else', async () => {
  const member = 'http://127.0.0.1:1';
  const peer = await receiver(member, 'peer-token-0123456789');
  const values = [
    { key: 'mine', value: Buffer.from('handed'), expiresAt: 0 },
    { key: 'not-mine', value: Buffer.from('x'), expiresAt: 0 },
  ];
  const client = new HttpPeerClient({ url: peer.url, self: member, peerToken: 'peer-token-0123456789' });
  after(() => client.close());
  assert.equal(await client.handOff('g', values), 1, 'only the key it owns without the sender');
  assert.equal((await peer.group.get('mine')).toString(), 'handed');
  assert.equal(peer.loads(), 0);

  const post = (headers: Record<string, string>) =>
    fetch(`${peer.url}/_geecache/~handoff/g/`, { method: 'POST', headers: { 'content-type': HANDOFF_CONTENT_TYPE, ...headers }, body: encodeHandoff(values) });
  const token = { authorization: 'Bearer peer-token-0123456789' };
  const refusals = [
    [await post({ 'geecache-peer': member }), /wrong or missing peer token/],
    [await post({ ...token, 'geecache-peer': 'http://127.0.0.1:2' }), /only from ring members/],
    [await post({ ...token, 'geecache-peer': 'http://127.0.0.9:1' }), /only from ring members/],
    [await post({ ...token }), /only from ring members/],
  ] as const;
  for (const [answer, message] of refusals) {
    assert.equal(answer.status, 403);
    assert.match(await answer.text(), message);
  }
  const stranger = new HttpPeerClient({ url: peer.url, self: 'http://127.0.0.1:7', peerToken: 'peer-token-0123456789' });
  after(() => stranger.close());
  await assert.rejects(stranger.handOff('g', values), /handoff answered 403/);
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
