import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyIndex } from '../../../src/engine/store/key-index.js';

/** An index over ids whose hashes the test chooses, to force collisions and wrap-around. */
function indexWith(hashes: number[]): KeyIndex {
  const column = new Uint32Array(hashes);
  return new KeyIndex(() => column);
}

const byId = (wanted: number) => (id: number) => id === wanted;

test('finds, misses and removes; removal shifts a colliding run back without tombstones', () => {
  // Ids 0-3 share home slot 5; id 4's home is 6, inside their run.
  const index = indexWith([5, 5, 5, 5, 6]);
  for (let id = 0; id < 5; id++) index.insert(id === 4 ? 6 : 5, id);
  for (let id = 0; id < 5; id++) assert.equal(index.find(id === 4 ? 6 : 5, byId(id)), id);
  assert.equal(index.find(5, () => false), -1);
  index.remove(5, 1);
  index.remove(5, 0);
  assert.equal(index.count, 3);
  for (const id of [2, 3]) assert.equal(index.find(5, byId(id)), id);
  assert.equal(index.find(6, byId(4)), 4);
  assert.equal(index.find(5, byId(1)), -1);
});

test('a run that wraps past the last slot is found and shifted correctly', () => {
  const last = 127; // the initial table has 128 slots
  const index = indexWith([last, last, last, 0]);
  index.insert(last, 0);
  index.insert(last, 1);
  index.insert(last, 2);
  index.insert(0, 3);
  index.remove(last, 0);
  for (const id of [1, 2]) assert.equal(index.find(last, byId(id)), id);
  assert.equal(index.find(0, byId(3)), 3);
});

test('grows past its load limit and keeps every id; random churn never loses one', () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const hashes = new Uint32Array(5000);
  for (let i = 0; i < hashes.length; i++) hashes[i] = random() & 0x3ff; // many collisions
  const index = new KeyIndex(() => hashes);
  const present = new Set<number>();
  for (let step = 0; step < 20000; step++) {
    const id = random() % hashes.length;
    if (present.has(id)) {
      index.remove(hashes[id]!, id);
      present.delete(id);
    } else {
      index.insert(hashes[id]!, id);
      present.add(id);
    }
  }
  assert.equal(index.count, present.size);
  for (let id = 0; id < hashes.length; id++) assert.equal(index.find(hashes[id]!, byId(id)), present.has(id) ? id : -1);
  assert.ok(index.byteSize >= (present.size / 0.75) * 4);
});
