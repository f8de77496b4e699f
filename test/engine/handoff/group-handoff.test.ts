import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../../src/engine/group.js';
import type { PeerGetter, PeerPicker, PeerValue } from '../../../src/engine/peers.js';

/** A peer whose cache holds `cached` (peek answers) and which must never be asked to load. */
function previousHolder(cached: Record<string, PeerValue>, fail = false): PeerPicker & { peeked: string[] } {
  const peeked: string[] = [];
  const holder: PeerGetter = {
    url: 'http://127.0.0.1:8',
    get: async () => assert.fail('a peek target is never asked to load'),
    peek: async (_group, key) => {
      peeked.push(key);
      if (fail) throw new Error('timed out after 50 ms');
      return cached[key];
    },
  };
  return { peeked, pickPeer: () => undefined, handoffSource: () => holder };
}

test("a miss this peer owns first takes the previous holder's cached copy, with its expiry; a peek miss or error loads", async () => {
  let clock = 1_000_000;
  const holder = previousHolder({ warm: { value: Buffer.from('warm value'), expiresAt: clock + 5000 } });
  let loads = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, peers: holder, clock: () => clock, getter: async (key) => (loads++, `loaded ${key}`) });
  const gets = await Promise.all([group.get('warm'), group.get('warm'), group.get('cold')]);
  assert.deepEqual(gets.map(String), ['warm value', 'warm value', 'loaded cold']);
  assert.deepEqual(holder.peeked, ['warm', 'cold'], 'one peek per key (singleflight)');
  assert.equal(loads, 1);
  assert.equal(group.mainCache.peek('warm')?.expiresAt, clock + 5000, 'kept as if loaded, with the holder\'s expiry');
  assert.deepEqual([group.stats().peekHits, group.stats().peekMisses], [1, 1]);
  clock += 5000;
  assert.equal((await group.get('warm')).toString(), 'loaded warm', 'expired here: peeked again, and the copy there has expired too');
  assert.equal(group.stats().peekMisses, 2);
  const failing = new Group({ name: 'f', cacheBytes: 1 << 20, peers: previousHolder({}, true), getter: async () => 'loaded' });
  assert.equal((await failing.get('k')).toString(), 'loaded');
  assert.equal(failing.stats().peekErrors, 1);
});

test('a peek is answered from either cache without loading or counting a get; handed values are stored only when owned and new', async () => {
  let clock = 1_000_000;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, clock: () => clock, getter: async (key) => `v:${key}` });
  await group.get('a');
  assert.equal(group.handoff.answerPeek('a')?.toString(), 'v:a');
  assert.equal(group.handoff.answerPeek('b'), undefined);
  assert.equal(group.stats().gets, 1, 'peeks are not gets');
  assert.equal(group.stats().localLoads, 1, 'and never load');
  const owns = (key: string) => key !== 'not-mine';
  assert.equal(group.handoff.store({ key: 'h', value: Buffer.from('handed'), expiresAt: clock + 100 }, owns), true);
  assert.equal(group.handoff.store({ key: 'a', value: Buffer.from('older'), expiresAt: 0 }, owns), false, 'a fresh copy here wins');
  assert.equal(group.handoff.store({ key: 'not-mine', value: Buffer.from('x'), expiresAt: 0 }, owns), false);
  assert.equal(group.handoff.store({ key: 'gone', value: Buffer.from('x'), expiresAt: clock - 1 }, owns), false, 'already expired');
  assert.equal((await group.get('h')).toString(), 'handed');
  assert.equal((await group.get('a')).toString(), 'v:a');
  assert.deepEqual([group.stats().handoffStored, group.stats().handoffRefused, group.stats().handoffStoredBytes], [1, 3, 6]);
  clock += 100;
  assert.deepEqual([...group.handoff.entries()].map(([key]) => key), ['a'], 'expired entries are not handed on; most recent first');
});
