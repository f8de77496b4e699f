// group-set.test.ts: Group.set() stores a value as the owner holds it, and a load in flight cannot overwrite it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../src/engine/group.js';
import { InvalidKeyError } from '../../src/errors.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('a load in flight when the key is set answers its callers but does not overwrite the value set', async () => {
  const slow = deferred<string>();
  let loads = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, getter: () => (loads++, slow.promise) });
  const inFlight = group.get('k');
  await Promise.resolve();
  group.set('k', 'set value');
  slow.resolve('old value');
  assert.equal((await inFlight).toString(), 'old value');
  assert.equal((await group.get('k')).toString(), 'set value');
  assert.equal(loads, 1);
});

test('the TTL asked for is capped by the group\'s; without one the group\'s applies', () => {
  let now = 1_000_000;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, ttlMs: 10_000, clock: () => now, getter: async () => 'x' });
  assert.equal(group.set('a', 'v', { ttlMs: 60_000 }).expiresAt, now + 10_000);
  assert.equal(group.set('b', 'v', { ttlMs: 500 }).expiresAt, now + 500);
  assert.equal(group.set('c', 'v').expiresAt, now + 10_000);
  now += 600;
  assert.equal(group.getCached('b'), undefined, 'expired after its own TTL');
  assert.equal(group.getCached('a')?.toString(), 'v');
  const forever = new Group({ name: 'h', cacheBytes: 1 << 20, getter: async () => 'x' });
  assert.equal(forever.set('a', 'v').expiresAt, 0);
});

test('set copies the value and refuses a bad key or TTL', () => {
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, getter: async () => 'x' });
  assert.throws(() => group.set('', 'v'), InvalidKeyError);
  assert.throws(() => group.set('k', 'v', { ttlMs: -1 }), TypeError);
  const value = new Uint8Array([1, 2, 3]);
  group.set('k', value);
  value[0] = 9;
  assert.deepEqual([...group.getCached('k')!.toBytes()], [1, 2, 3], 'the value was copied');
});
