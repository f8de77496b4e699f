import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru, entryBytes } from '../src/lru.js';
import { ByteView } from '../src/byteview.js';

function view(n: number, fill = 1): ByteView {
  return ByteView.copyOf(new Uint8Array(n).fill(fill));
}

test('bytes count key length plus value length', () => {
  const lru = new ByteLru(1000);
  lru.set('abc', view(10));
  lru.set('日本', view(5)); // 6 UTF-8 bytes of key
  assert.equal(lru.bytes, 3 + 10 + 6 + 5);
  assert.equal(lru.items, 2);
  assert.equal(entryBytes('日本', view(5)), 11);
});

test('the byte budget is never exceeded across random inserts, and bytes always equal the sum of entries', () => {
  const lru = new ByteLru(5000);
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const model = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const key = `k${Math.floor(random() * 400)}`;
    const size = Math.floor(random() * 300);
    lru.set(key, view(size));
    assert.ok(lru.bytes <= 5000, `bytes ${lru.bytes} over budget after insert ${i}`);
    model.set(key, size);
    if (i % 250 === 0) {
      let sum = 0;
      for (const k of lru.keys()) sum += k.length + model.get(k)!;
      assert.equal(lru.bytes, sum);
    }
  }
  assert.ok(lru.stats().evictions > 0);
});

test('evicts the least recently used entry, and a get refreshes recency', () => {
  const lru = new ByteLru(3 * 11); // three entries of key 1 byte + value 10 bytes
  lru.set('a', view(10));
  lru.set('b', view(10));
  lru.set('c', view(10));
  assert.ok(lru.get('a')); // a is now the most recent; b is the oldest
  lru.set('d', view(10));
  assert.equal(lru.get('b'), undefined);
  assert.ok(lru.get('a'));
  assert.ok(lru.get('c'));
  assert.ok(lru.get('d'));
  assert.equal(lru.stats().evictions, 1);
});

test('removeOldest evicts in LRU order and reports emptiness', () => {
  const lru = new ByteLru(100);
  lru.set('x', view(1));
  lru.set('y', view(1));
  assert.equal(lru.removeOldest(), true);
  assert.deepEqual(lru.keys(), ['y']);
  assert.equal(lru.removeOldest(), true);
  assert.equal(lru.removeOldest(), false);
  assert.equal(lru.stats().evictions, 2);
});

test('an entry larger than the budget is refused and evicts nothing', () => {
  const lru = new ByteLru(50);
  lru.set('small', view(10));
  assert.equal(lru.set('huge', view(60)), false);
  assert.equal(lru.get('huge'), undefined);
  assert.ok(lru.get('small'));
});

test('overwriting a key replaces its size and is not an eviction', () => {
  const lru = new ByteLru(100);
  lru.set('k', view(10));
  lru.set('k', view(20));
  assert.equal(lru.bytes, 21);
  assert.equal(lru.stats().evictions, 0);
});

test('stats count gets and hits', () => {
  const lru = new ByteLru(100);
  lru.set('k', view(1));
  lru.get('k');
  lru.get('missing');
  assert.deepEqual(lru.stats(), { items: 1, bytes: 2, evictions: 0, gets: 2, hits: 1 });
});

test('invalid budgets are rejected', () => {
  assert.throws(() => new ByteLru(0), /maxBytes/);
  assert.throws(() => new ByteLru(Number.NaN), /maxBytes/);
});
