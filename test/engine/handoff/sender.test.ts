import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { handOffOnLeave } from '../../../src/engine/handoff/sender.js';
import { startPeerNode, type PeerNode } from '../../support/peer-node.js';

const data: Record<string, string> = {};
for (let i = 0; i < 300; i++) data[`key-${i}`] = `value-${i}`;

async function ring(count: number): Promise<PeerNode[]> {
  const nodes = await Promise.all(Array.from({ length: count }, () => startPeerNode(data, { handoffWindowMs: 60_000 })));
  after(() => Promise.all(nodes.map((node) => node.close())));
  for (const node of nodes) node.ring.set(...nodes.map((n) => n.url));
  return nodes;
}

test('a leaving peer hands its values to their next owners over HTTP; they serve them without loading', async () => {
  const nodes = await ring(3);
  const [leaving, ...staying] = nodes as [PeerNode, ...PeerNode[]];
  const keys = Object.keys(data);
  for (const key of keys) await leaving.group.get(key);
  const owned = keys.filter((key) => leaving.ring.ownerOf(key) === leaving.url);
  assert.ok(owned.length > 50);
  // The others see it leave first (its endpoint turned terminating), then it hands over.
  for (const node of staying) node.ring.set(...staying.map((n) => n.url));
  const report = await handOffOnLeave(leaving.groups, leaving.ring, { deadline: performance.now() + 10_000, maxBytes: 1 << 30, now: () => performance.now() });
  assert.equal(report.sent, leaving.group.mainCache.items);
  assert.equal(report.failed, 0);
  assert.equal(report.stored, owned.length, 'its main cache holds the keys it owned, and each went to its next owner');
  const loadsBefore = staying.map((node) => node.loads.length);
  for (const key of owned) for (const node of staying) assert.equal((await node.group.get(key)).toString(), data[key]);
  assert.deepEqual(staying.map((node) => node.loads.length), loadsBefore, 'not one load');
});

test('the budget bounds a handoff: a deadline in the past or too few bytes send nothing more', async () => {
  const nodes = await ring(2);
  for (const key of Object.keys(data)) await nodes[0]!.group.get(key);
  const now = () => performance.now();
  const late = await handOffOnLeave(nodes[0]!.groups, nodes[0]!.ring, { deadline: now() - 1, maxBytes: 1 << 30, now });
  assert.deepEqual(late, { sent: 0, bytes: 0, stored: 0, failed: 0, cut: 'time' });
  const small = await handOffOnLeave(nodes[0]!.groups, nodes[0]!.ring, { deadline: now() + 10_000, maxBytes: 100, now });
  assert.equal(small.cut, 'bytes');
  assert.ok(small.bytes <= 100 && small.sent > 0, `${small.sent} values, ${small.bytes} bytes`);
});

test('peers that still count the leaving peer as a member refuse its values (409) until they see it leave; the sender tries again within its budget', async () => {
  const nodes = await ring(3);
  const [leaving, ...staying] = nodes as [PeerNode, ...PeerNode[]];
  const keys = Object.keys(data);
  for (const key of keys) await leaving.group.get(key);
  const owned = keys.filter((key) => leaving.ring.ownerOf(key) === leaving.url);
  const now = () => performance.now();
  const once = await handOffOnLeave(leaving.groups, leaving.ring, { deadline: now() + 10_000, maxBytes: 1 << 30, now });
  assert.deepEqual([once.stored, once.failed], [0, once.sent], 'a stable ring takes nothing from a member');
  let waits = 0;
  const wait = async (ms: number) => {
    // The SIGTERM and the terminating endpoint race: the others see the peer leave while it waits.
    if (++waits === 2) for (const node of staying) node.ring.set(...staying.map((n) => n.url));
    await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const retried = await handOffOnLeave(leaving.groups, leaving.ring, { deadline: now() + 10_000, maxBytes: 1 << 30, now, wait, retryMs: 10 });
  assert.ok(waits >= 2, `${waits} waits`);
  assert.deepEqual([retried.stored, retried.failed], [owned.length, 0]);
});
