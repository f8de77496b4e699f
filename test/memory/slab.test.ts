import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView } from '../../src/engine/byteview.js';
import { ByteLru } from '../../src/engine/lru.js';
import { SlabArena } from '../../src/memory/slab.js';
import { collectUntil } from '../support/gc.js';

function retained(arena: SlabArena, byte: number, length = 8): ByteView {
  const view = ByteView.copyOf(new Uint8Array(length).fill(byte));
  ByteView.retain(view, arena);
  return view;
}

test('a sealed slab whose last value goes counts as empty, and the current slab never does', () => {
  const arena = new SlabArena({ slabBytes: 32, maxValueBytes: 8 });
  const first = [retained(arena, 1), retained(arena, 2), retained(arena, 3), retained(arena, 4)];
  ByteView.release(first[0]!);
  ByteView.release(first[1]!);
  assert.equal(arena.stats().emptySlabBytes, 0, 'the current slab is never empty');
  const next = retained(arena, 5); // seals the first slab
  ByteView.release(first[2]!);
  assert.equal(arena.stats().emptySlabBytes, 0, 'one value still in it');
  ByteView.release(first[3]!);
  assert.equal(arena.stats().emptySlabBytes, 32);
  // Taken by a cache again (the hot cache): the value moves out of the sparse slab, which stays empty.
  ByteView.retain(first[3]!, arena);
  assert.equal(ByteView.placement(first[3]!)!.slab, ByteView.placement(next)!.slab);
  assert.equal(arena.stats().emptySlabBytes, 32);
  ByteView.release(next);
  ByteView.release(first[3]!);
  assert.equal(arena.stats().emptySlabBytes, 32, 'the current slab does not count');
});

test('with sparseFraction 0 a value taken again stays in its empty slab, which then counts as live', () => {
  const arena = new SlabArena({ slabBytes: 16, maxValueBytes: 8, sparseFraction: 0 });
  const [a, b] = [retained(arena, 1), retained(arena, 2)];
  retained(arena, 3); // seals the first slab
  ByteView.release(a);
  ByteView.release(b);
  assert.equal(arena.stats().emptySlabBytes, 16);
  const slab = ByteView.placement(b)!.slab;
  ByteView.retain(b, arena);
  assert.equal(ByteView.placement(b)!.slab, slab, 'not moved');
  assert.equal(arena.stats().emptySlabBytes, 0);
  ByteView.release(b);
  assert.equal(arena.stats().emptySlabBytes, 16);
});

test('a slab sealed with nothing live is empty at once', () => {
  const arena = new SlabArena({ slabBytes: 12, maxValueBytes: 8 });
  ByteView.release(retained(arena, 1));
  assert.equal(arena.stats().emptySlabBytes, 0);
  retained(arena, 2); // does not fit: the first slab is sealed, already empty
  assert.equal(arena.stats().emptySlabBytes, 12);
});

test('empty slabs are uncounted when the garbage collector frees them, and every freed slab was counted empty', async () => {
  const arena = new SlabArena({ slabBytes: 1024, maxValueBytes: 64 });
  const lru = new ByteLru(4096, { arena });
  for (let i = 0; i < 1000; i++) lru.set(`k${i}`, ByteView.copyOf(new Uint8Array(60).fill(i & 255)));
  const before = arena.stats();
  assert.ok(before.emptySlabBytes >= 20 * 1024, `eviction emptied slabs (${before.emptySlabBytes} bytes)`);
  await collectUntil(() => arena.stats().emptySlabBytes === 0);
  const after = arena.stats();
  assert.equal(after.emptySlabBytes, 0, 'every empty slab was freed');
  assert.equal(after.slabsFreed * 1024, before.emptySlabBytes + (before.slabsFreed * 1024), 'freed = counted empty');
  assert.ok(after.slabBytesHeld >= after.liveBytes);
  assert.equal(lru.get('k999')?.toBytes()[0], 999 & 255, 'live values are untouched');
});
