import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru, entryBytes } from '../../src/engine/lru.js';
import { ByteView } from '../../src/engine/byteview.js';
import { SlabArena } from '../../src/memory/slab.js';

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

test('stats report what is held and what was evicted; gets change neither', () => {
  const lru = new ByteLru(100);
  lru.set('k', view(1));
  lru.get('k');
  lru.get('missing');
  assert.deepEqual(lru.stats(), { items: 1, bytes: 2, evictions: 0, unexpiredEvictions: 0 });
});

test('invalid budgets are rejected', () => {
  assert.throws(() => new ByteLru(0), /maxBytes/);
  assert.throws(() => new ByteLru(Number.NaN), /maxBytes/);
});

test('values move into the arena on set and leave it on evict, delete, overwrite and clear', () => {
  const arena = new SlabArena({ slabBytes: 1024, maxValueBytes: 64 });
  const lru = new ByteLru(3 * 11, { arena });
  const a = view(10);
  lru.set('a', a);
  lru.set('a', a); // the same value again is not counted twice
  assert.equal(arena.stats().liveBytes, 10);
  lru.set('b', view(10));
  lru.set('c', view(10));
  lru.set('d', view(10)); // evicts a
  assert.equal(arena.stats().liveBytes, 30);
  lru.set('b', view(5)); // overwrite
  assert.equal(arena.stats().liveBytes, 25);
  lru.delete('c');
  lru.removeOldest(); // d: the overwrite made b the most recent
  assert.deepEqual(lru.keys(), ['b']);
  assert.equal(arena.stats().liveBytes, 5);
  lru.clear();
  assert.equal(arena.stats().liveBytes, 0);
  assert.equal(a.byteLength, 10);
});

test('random operations on two caches sharing an arena: live bytes equal the cached values, every value keeps its bytes', () => {
  // Small slabs and a high sparse threshold, so slabs seal and relocations happen often.
  const arena = new SlabArena({ slabBytes: 256, maxValueBytes: 32, sparseFraction: 0.9 });
  const caches = [new ByteLru(2000, { arena }), new ByteLru(700, { arena })];
  const content = new Map<ByteView, number[]>();
  let seed = 7;
  const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
  const shared: ByteView[] = [];
  for (let i = 0; i < 20000; i++) {
    const cache = caches[random(2)]!;
    const key = `k${random(120)}`;
    const op = random(10);
    if (op < 4) {
      // Sometimes reuse a view already cached elsewhere (same bytes under two keys or in two caches).
      let value: ByteView;
      if (shared.length > 0 && random(4) === 0) value = shared[random(shared.length)]!;
      else {
        const bytes = Array.from({ length: random(40) }, () => random(256));
        value = ByteView.copyOf(new Uint8Array(bytes));
        content.set(value, bytes);
        shared.push(value);
        if (shared.length > 50) shared.shift();
      }
      cache.set(key, value);
    } else if (op < 8) {
      const value = cache.get(key);
      if (value) assert.deepEqual([...value.toBytes()], content.get(value));
    } else if (op < 9) cache.delete(key);
    else cache.removeOldest();

    if (i % 100 === 0 || i > 19900) {
      const held = new Set<ByteView>();
      for (const c of caches) {
        let sum = 0;
        for (const k of c.keys()) {
          const value = c.peek(k)!;
          sum += Buffer.byteLength(k) + value.byteLength;
          held.add(value);
        }
        assert.equal(c.bytes, sum);
        assert.ok(c.bytes <= c.maxBytes);
      }
      let live = 0;
      for (const value of held) {
        if (ByteView.placement(value)) live += value.byteLength;
        assert.deepEqual([...value.toBytes()], content.get(value));
      }
      assert.equal(arena.stats().liveBytes, live, `live bytes after operation ${i}`);
    }
  }
  assert.ok(arena.stats().relocations > 0, 'relocations happened');
  for (const value of content.keys()) assert.deepEqual([...value.toBytes()], content.get(value));
});

test('evictions of values whose expiry had not come are counted apart, whether the budget or removeOldest evicts', () => {
  const now = 1_000_000;
  const lru = new ByteLru(30, { clock: () => now });
  const value = (expiresAt: number) => ByteView.adopt(Buffer.alloc(9, 'v'), expiresAt);
  lru.set('a', value(now - 1)); // expired
  lru.set('b', value(0)); // never expires
  lru.set('c', value(now + 1000));
  lru.set('d', value(now + 1000)); // over 30 bytes: lru-cache evicts a (expired)
  assert.deepEqual([lru.stats().evictions, lru.stats().unexpiredEvictions], [1, 0]);
  lru.removeOldest(); // b: never expires, so eviction is its normal end
  lru.removeOldest(); // c
  assert.deepEqual([lru.stats().evictions, lru.stats().unexpiredEvictions], [3, 1]);
  lru.delete('d');
  assert.equal(lru.stats().evictions, 3, 'a delete is not an eviction');
});
