import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRing } from '../../../src/engine/peer-ring.js';
import { HashRing } from '../../../src/engine/ring.js';
import type { ClosablePeerGetter } from '../../../src/engine/peers.js';

test('within the window after a change, a key this peer now owns is looked for on its owner without this peer', () => {
  let now = 0;
  const clients = new Map<string, ClosablePeerGetter>();
  const ring = new PeerRing({
    self: 'http://127.0.0.1:4',
    handoffWindowMs: 1000,
    now: () => now,
    createClient: (url) => {
      const client: ClosablePeerGetter = { url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => {} };
      clients.set(url, client);
      return client;
    },
  });
  const before = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];
  ring.set(...before);
  now = 5000;
  ring.set(...before, 'http://127.0.0.1:4');
  const old = new HashRing(before);
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
  const mine = keys.filter((key) => ring.ownerOf(key) === 'http://127.0.0.1:4');
  assert.ok(mine.length > 20);
  for (const key of mine) assert.equal(ring.handoffWindow.sourceOf(key)?.url, old.ownerOf(key), 'where the key lived before this peer joined');
  for (const key of keys.filter((k) => !mine.includes(k))) assert.equal(ring.handoffWindow.sourceOf(key), undefined, 'keys of other owners are not peeked');
  assert.deepEqual(ring.handoff, { windowMs: 1000, remainingMs: 1000, previousPeers: before });
  now = 6000;
  assert.equal(ring.handoffWindow.sourceOf(mine[0]!), undefined, 'the window closed');
  assert.equal(ring.handoff.remainingMs, 0);
});

test('only a peer that left within the window may hand values over; this peer keeps the keys it owns without it', () => {
  let now = 0;
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    handoffWindowMs: 1000,
    now: () => now,
    createClient: (url) => ({ url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => {} }),
  });
  const all = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];
  ring.set(...all);
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:2'), 'member', 'a member inside the window is not leaving');
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:9'), 'unknown', 'a stranger');
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:1'), 'unknown', 'itself');
  now = 100;
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:3');
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:2'), undefined, 'it just left: a terminating pod');
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:3'), 'member', 'a member that stayed');
  const without = new HashRing(['http://127.0.0.1:1', 'http://127.0.0.1:3']);
  for (let i = 0; i < 100; i++) assert.equal(ring.handoffWindow.ownsWithout('http://127.0.0.1:2', `k${i}`), without.ownerOf(`k${i}`) === 'http://127.0.0.1:1');
  now = 1100;
  assert.equal(ring.handoffWindow.handoffRefusal('http://127.0.0.1:2'), 'unknown', 'too long ago');
  const off = new PeerRing({ self: 'http://127.0.0.1:1', createClient: (url) => ({ url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => {} }) });
  off.set(...all);
  assert.equal(off.handoffWindow.handoffRefusal('http://127.0.0.1:2'), 'unknown', 'without a window there is no handoff');
  assert.equal(off.handoffWindow.sourceOf('k1'), undefined);
});

test('after a peer left, its keys are peeked at it (it still serves until it exits) through its kept client', () => {
  let now = 0;
  const closed: string[] = [];
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    handoffWindowMs: 1000,
    now: () => now,
    createClient: (url) => ({ url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => void closed.push(url) }),
  });
  const all = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];
  ring.set(...all);
  const before = new HashRing(all);
  now = 10_000;
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:3');
  assert.deepEqual(closed, [], 'the leaver keeps its client through the window');
  const inherited = Array.from({ length: 300 }, (_, i) => `k${i}`).filter((key) => before.ownerOf(key) === 'http://127.0.0.1:2' && ring.ownerOf(key) === 'http://127.0.0.1:1');
  assert.ok(inherited.length > 10);
  for (const key of inherited) assert.equal(ring.handoffWindow.sourceOf(key)?.url, 'http://127.0.0.1:2');
  now = 11_000;
  ring.set('http://127.0.0.1:1');
  assert.deepEqual(closed, ['http://127.0.0.1:2'], 'and closes it once the window is over');
});

test('a key this peer owned before the last change too, but does not hold, is looked for where the ring without it put it', () => {
  let now = 0;
  const ring = new PeerRing({
    self: 'http://127.0.0.1:2',
    handoffWindowMs: 60_000,
    now: () => now,
    createClient: (url) => ({ url, get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => {} }),
  });
  // A rolling restart: this pod came back into a ring of two, then the other one terminates.
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:2');
  now = 1000;
  ring.set('http://127.0.0.1:2');
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
  const before = new HashRing(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  const mineBefore = keys.filter((key) => before.ownerOf(key) === 'http://127.0.0.1:2');
  assert.ok(mineBefore.length > 10);
  // While it was gone, the other pod took its keys (handed over or loaded): that is where they are.
  for (const key of keys) assert.equal(ring.handoffWindow.sourceOf(key)?.url, 'http://127.0.0.1:1', key);
});
