import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../src/engine/group.js';
import { invalidateEverywhere } from '../../src/engine/invalidation.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import type { ClosablePeerGetter } from '../../src/engine/peers.js';
import { startPeerNode } from '../support/peer-node.js';

test("the key's owner is told first, then this peer drops its copy, then the others; failures are reported", async () => {
  const told: Array<{ peer: string; localCopy: boolean }> = [];
  // This peer holds a main-cache copy of a key it may not own (loaded while the owner was away).
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, getter: async () => 'v' });
  await group.get('k');
  const self = 'http://127.0.0.1:1';
  const ring = new PeerRing({
    self,
    createClient: (url): ClosablePeerGetter => ({
      url,
      get: async () => ({ value: Buffer.from('remote'), expiresAt: 0 }),
      close: async () => {},
      invalidate: async () => {
        told.push({ peer: url, localCopy: group.mainCache.peek('k') !== undefined });
        if (url.endsWith(':4')) throw new Error('connection refused');
      },
    }),
  });
  ring.set(self, 'http://127.0.0.1:2', 'http://127.0.0.1:3', 'http://127.0.0.1:4');
  const owner = ring.ownerOf('k')!;
  const report = await invalidateEverywhere(group, ring, 'k');
  assert.equal(told[0]!.peer, owner);
  if (owner !== self) assert.equal(told[0]!.localCopy, true, 'the owner is told before this peer drops its copy');
  assert.ok(told.slice(1).every((call) => !call.localCopy), 'the others after');
  assert.deepEqual(told.map((call) => call.peer).sort(), ['http://127.0.0.1:2', 'http://127.0.0.1:3', 'http://127.0.0.1:4']);
  assert.deepEqual(report, { peers: 3, reached: 2, unreached: [{ peer: 'http://127.0.0.1:4', error: 'connection refused' }] });
  assert.equal(group.mainCache.peek('k'), undefined);
});

test('over real peer servers: every copy is gone and the next get loads once; a wrong token is refused by the peers', async () => {
  const data: Record<string, string> = { k: 'old' };
  const nodes = await Promise.all([0, 1, 2].map(() => startPeerNode(data, { adminToken: 'a-token-of-20-chars!' })));
  after(() => Promise.all(nodes.map((node) => node.close())));
  for (const node of nodes) node.ring.set(...nodes.map((n) => n.url));
  for (const node of nodes) for (let i = 0; i < 30; i++) await node.group.get('k');
  data.k = 'new';
  const report = await invalidateEverywhere(nodes[1]!.group, nodes[1]!.ring, 'k');
  assert.deepEqual(report, { peers: 2, reached: 2, unreached: [] });
  for (const node of nodes) {
    assert.equal(node.group.mainCache.peek('k'), undefined);
    assert.equal(node.group.hotCache.peek('k'), undefined);
  }
  const loadsBefore = nodes.reduce((sum, node) => sum + node.loads.length, 0);
  for (const node of nodes) assert.equal((await node.group.get('k')).toString(), 'new');
  assert.equal(nodes.reduce((sum, node) => sum + node.loads.length, 0) - loadsBefore, 1, 'one load, on the owner');

  const intruder = await startPeerNode(data, { adminToken: 'not-the-token-at-all' });
  after(() => intruder.close());
  intruder.ring.set(intruder.url, ...nodes.map((n) => n.url));
  const refused = await invalidateEverywhere(intruder.group, intruder.ring, 'k');
  assert.equal(refused.reached, 0);
  assert.equal(refused.unreached.length, 3);
  for (const { error } of refused.unreached) assert.match(error, /answered 403: wrong or missing admin token/);
});
