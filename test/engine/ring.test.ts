import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HashRing } from '../../src/engine/ring.js';

interface Vector {
  replicas: number;
  peers: string[];
  owners: Record<string, string>;
}

// Produced by Go groupcache's consistenthash (test/reference/ring-vectors/main.go).
const vectors = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/ring-vectors.json', import.meta.url), 'utf8'),
) as Vector[];

test('owners match Go groupcache for every committed vector', () => {
  assert.ok(vectors.length >= 6);
  for (const vector of vectors) {
    // Shuffled and duplicated input must not matter: the ring sorts and de-duplicates.
    const input = [...vector.peers].reverse().concat(vector.peers[0]!);
    const ring = new HashRing(input, { replicas: vector.replicas });
    for (const [key, owner] of Object.entries(vector.owners)) {
      assert.equal(ring.ownerOf(key), owner, `key ${JSON.stringify(key)} with ${vector.peers.length} peers x${vector.replicas}`);
    }
  }
});

test('worked example with a readable hash: points 2,4,6,12,14,16,22,24,26', () => {
  // hash = the decimal value of the string, so point i of peer p is the number i followed by p.
  const ring = new HashRing(['6', '4', '2'], { replicas: 3, hash: (s) => Number.parseInt(s, 10) });
  const expected: Record<string, string> = { '2': '2', '11': '2', '23': '4', '27': '2', '5': '6', '0': '2', '26': '6' };
  for (const [key, owner] of Object.entries(expected)) assert.equal(ring.ownerOf(key), owner, key);
});

test('an empty ring owns nothing', () => {
  const ring = new HashRing([]);
  assert.equal(ring.isEmpty, true);
  assert.equal(ring.ownerOf('Tom'), undefined);
});

test('peers are sorted and de-duplicated', () => {
  const ring = new HashRing(['http://c', 'http://a', 'http://b', 'http://a']);
  assert.deepEqual(ring.peers, ['http://a', 'http://b', 'http://c']);
});

test('adding a 4th peer to 3 moves about a quarter of the keys', () => {
  const three = ['http://127.0.0.1:8001', 'http://127.0.0.1:8002', 'http://127.0.0.1:8003'];
  const before = new HashRing(three);
  const after = new HashRing([...three, 'http://127.0.0.1:8004']);
  let moved = 0;
  const total = 10_000;
  for (let i = 0; i < total; i++) {
    const key = `key-${i}`;
    const newOwner = after.ownerOf(key);
    if (newOwner !== before.ownerOf(key)) {
      moved++;
      // Keys only ever move to the newcomer.
      assert.equal(newOwner, 'http://127.0.0.1:8004');
    }
  }
  assert.ok(moved > total * 0.15, `only ${moved} keys moved`);
  assert.ok(moved < total / 3, `${moved} keys moved, more than a third`);
});

test('every peer owns a share of keys', () => {
  const peers = ['http://10.0.0.1:8001', 'http://10.0.0.2:8001', 'http://10.0.0.3:8001'];
  const ring = new HashRing(peers);
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const owner = ring.ownerOf(`k${i}`)!;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  for (const peer of peers) assert.ok((counts.get(peer) ?? 0) > 500, `${peer} owns ${counts.get(peer)}`);
});

test('bad replicas are rejected with a TypeError naming the option', () => {
  assert.throws(() => new HashRing(['a'], { replicas: 0 }), /replicas/);
  assert.throws(() => new HashRing(['a'], { replicas: 1.5 }), /replicas/);
});
