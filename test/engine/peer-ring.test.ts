import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPeerNode, type PeerNode } from '../support/peer-node.js';
import { NotFoundError } from '../../src/errors.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { HashRing } from '../../src/engine/ring.js';

const data: Record<string, string> = {};
for (let i = 0; i < 60; i++) data[`key-${i}`] = `value-${i}`;

async function startCluster(): Promise<PeerNode[]> {
  const nodes = await Promise.all([startPeerNode(data), startPeerNode(data), startPeerNode(data)]);
  const urls = nodes.map((n) => n.url);
  for (const node of nodes) node.ring.set(...urls);
  after(() => Promise.all(nodes.map((n) => n.close())));
  return nodes;
}

function ownerNode(nodes: PeerNode[], key: string): PeerNode {
  const owner = new HashRing(nodes.map((n) => n.url)).ownerOf(key);
  return nodes.find((n) => n.url === owner)!;
}

test('three pools on loopback: each key is loaded once, on its owner, whichever ring is asked', async () => {
  const nodes = await startCluster();
  const keys = Object.keys(data);
  // Ask every node for every key, all at once.
  const answers = await Promise.all(
    nodes.flatMap((node) => keys.map(async (key) => [key, (await node.group.get(key)).toString()] as const)),
  );
  for (const [key, value] of answers) assert.equal(value, data[key]);
  for (const key of keys) {
    const loaders = nodes.filter((n) => n.loads.includes(key));
    assert.deepEqual(loaders.map((n) => n.url), [ownerNode(nodes, key).url], `key ${key}`);
    assert.equal(loaders[0]!.loads.filter((k) => k === key).length, 1, `key ${key} loaded twice`);
  }
  const totals = nodes.map((n) => n.group.stats());
  assert.equal(totals.reduce((sum, s) => sum + s.localLoads, 0), keys.length);
  assert.ok(totals.every((s) => s.peerLoads > 0 && s.serverRequests > 0));
});

test('a key the source lacks is not-found everywhere and loaded only on its owner', async () => {
  const nodes = await startCluster();
  for (const node of nodes) {
    await assert.rejects(node.group.get('kkk'), (err: unknown) => err instanceof NotFoundError && /kkk not exist/.test(err.message));
  }
  const owner = ownerNode(nodes, 'kkk');
  for (const node of nodes) assert.equal(node.loads.filter((k) => k === 'kkk').length, node === owner ? 3 : 0);
});

test('stopping the owner makes the others fall back to local loads without failing the caller', async () => {
  const nodes = await startCluster();
  const victim = nodes[0]!;
  const ownedByVictim = Object.keys(data).filter((k) => ownerNode(nodes, k) === victim);
  assert.ok(ownedByVictim.length > 0);
  await victim.close();
  const asker = nodes[1]!;
  for (const key of ownedByVictim) assert.equal((await asker.group.get(key)).toString(), data[key]);
  assert.equal(asker.group.stats().peerErrors, ownedByVictim.length);
  assert.deepEqual(asker.loads.sort(), [...ownedByVictim].sort());
});

test('a peer that never answers times out and the caller loads locally', async () => {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket)); // accepts connections, never replies
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const node = await startPeerNode(data, { timeoutMs: 200 });
  after(() => node.close());
  node.ring.set(node.url, silentUrl);
  const key = Object.keys(data).find((k) => node.ring.ownerOf(k) === silentUrl)!;
  const started = Date.now();
  assert.equal((await node.group.get(key)).toString(), data[key]);
  assert.ok(Date.now() - started >= 190);
  assert.equal(node.group.stats().peerErrors, 1);
  assert.deepEqual(node.loads, [key]);
});

test('set() swaps the ring atomically, ignores no-op updates and closes clients of departed peers', async () => {
  const closed: string[] = [];
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    createClient: (url) => ({ url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => void closed.push(url) }),
  });
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3');
  ring.set('http://127.0.0.1:3', 'http://127.0.0.1:2', 'http://127.0.0.1:1', 'http://127.0.0.1:2');
  assert.equal(ring.membershipChanges, 1);
  const seen = new Set<string | undefined>();
  for (let i = 0; i < 200; i++) seen.add(ring.pickPeer(`k${i}`)?.url);
  assert.deepEqual([...seen].sort(), ['http://127.0.0.1:2', 'http://127.0.0.1:3', undefined].sort());
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:2');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closed, ['http://127.0.0.1:3']);
  assert.equal(ring.membershipChanges, 2);
  ring.set();
  assert.equal(ring.pickPeer('anything'), undefined);
  assert.throws(() => ring.set('http://127.0.0.1:2/path'), /must be a base URL like http:\/\/10\.0\.0\.5:8001/);
});

test('an owner whose source is slower than the peer timeout is waited for: one load, by the owner, no fallback', async () => {
  const slow = await startPeerNode(data, { timeoutMs: 150, latencyMs: 500 });
  const asker = await startPeerNode(data, { timeoutMs: 150 });
  after(() => Promise.all([slow.close(), asker.close()]));
  for (const node of [slow, asker]) node.ring.set(slow.url, asker.url);
  const key = Object.keys(data).find((k) => asker.ring.ownerOf(k) === slow.url)!;
  const [first, second] = await Promise.all([asker.group.get(key), slow.group.get(key)]);
  assert.equal(first.toString(), data[key]);
  assert.equal(second.toString(), data[key]);
  assert.deepEqual(slow.loads, [key]);
  assert.deepEqual(asker.loads, [], 'the asker never loaded it itself');
  assert.equal(asker.group.stats().peerErrors, 0);
});
