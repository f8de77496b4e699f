import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView, TEXT_WRITE_MAX_BYTES } from '../../src/engine/byteview.js';
import { ByteLru } from '../../src/engine/lru.js';
import { SlabArena } from '../../src/memory/slab.js';

test('copyOf takes a copy: changing the source later does not change the view', () => {
  const source = new Uint8Array([1, 2, 3]);
  const view = ByteView.copyOf(source);
  source[0] = 99;
  assert.deepEqual([...view.toBytes()], [1, 2, 3]);
});

test('toBytes hands out a copy: changing it does not change the view', () => {
  const view = ByteView.copyOf('630');
  const bytes = view.toBytes();
  bytes[0] = 0;
  assert.equal(view.toString(), '630');
  assert.notEqual(view.toBytes(), view.toBytes());
});

test('length, string and equality', () => {
  const view = ByteView.copyOf('héllo');
  assert.equal(view.byteLength, 6);
  assert.equal(view.toString(), 'héllo');
  assert.equal(view.toString('hex'), Buffer.from('héllo').toString('hex'));
  assert.ok(view.equals('héllo'));
  assert.ok(view.equals(ByteView.copyOf('héllo')));
  assert.ok(!view.equals('hello'));
});

test('bytesForWrite gives the bytes; equals compares content wherever the bytes live', () => {
  const view = ByteView.copyOf('abc');
  assert.deepEqual([...ByteView.bytesForWrite(view)], [97, 98, 99]);
  assert.ok(ByteView.copyOf(new Uint8Array(0)).equals(new Uint8Array(0)));
  assert.equal(ByteView.copyOf('').toString(), '');
});

test('a retained small value moves into a slab; its content, length and copies stay the same', () => {
  const arena = new SlabArena({ slabBytes: 64, maxValueBytes: 16 });
  const view = ByteView.copyOf('hello');
  const before = ByteView.bytesForWrite(view);
  assert.equal(ByteView.placement(view), undefined);
  ByteView.retain(view, arena);
  assert.ok(ByteView.placement(view));
  assert.equal(view.toString(), 'hello');
  assert.equal(view.byteLength, 5);
  assert.equal(arena.stats().liveBytes, 5);
  // A reader that took the bytes before the move still has them, unchanged.
  assert.equal(Buffer.from(before).toString(), 'hello');
  const copy = view.toBytes();
  copy[0] = 0;
  assert.equal(view.toString(), 'hello');
  assert.equal(copy.buffer.byteLength, 5, 'toBytes copies only the value, not the slab');
  ByteView.release(view);
  assert.equal(arena.stats().liveBytes, 0);
  assert.equal(view.toString(), 'hello', 'a released view still reads its bytes');
});

test('values larger than maxValueBytes keep their own buffer; a second retain does not count twice', () => {
  const arena = new SlabArena({ slabBytes: 64, maxValueBytes: 16 });
  const big = ByteView.copyOf(new Uint8Array(17).fill(7));
  ByteView.retain(big, arena);
  assert.equal(ByteView.placement(big), undefined);
  assert.equal(arena.stats().liveBytes, 0);
  const small = ByteView.copyOf('x');
  ByteView.retain(small, arena);
  ByteView.retain(small, arena);
  assert.equal(arena.stats().liveBytes, 1);
  ByteView.release(small);
  assert.equal(arena.stats().liveBytes, 1);
  ByteView.release(small);
  ByteView.release(small); // one release too many is ignored
  assert.equal(arena.stats().liveBytes, 0);
});

test('slabs are filled front to back and never reused: no value ever sees the bytes of another', () => {
  const arena = new SlabArena({ slabBytes: 32, maxValueBytes: 8 });
  const views: ByteView[] = [];
  const expected: number[][] = [];
  for (let i = 0; i < 200; i++) {
    const bytes = Array.from({ length: 1 + (i % 8) }, (_, j) => (i * 7 + j) & 255);
    const view = ByteView.copyOf(new Uint8Array(bytes));
    ByteView.retain(view, arena);
    if (i % 3 === 0) ByteView.release(view); // released values are dead space, never overwritten
    views.push(view);
    expected.push(bytes);
  }
  views.forEach((view, i) => assert.deepEqual([...view.toBytes()], expected[i]));
  const seen = new Map<object, Array<[number, number]>>();
  for (const view of views) {
    const at = ByteView.placement(view)!;
    const ranges = seen.get(at.slab) ?? [];
    for (const [start, end] of ranges) assert.ok(at.offset >= end || at.offset + view.byteLength <= start, 'ranges overlap');
    ranges.push([at.offset, at.offset + view.byteLength]);
    seen.set(at.slab, ranges);
    assert.ok(at.offset + view.byteLength <= 32);
  }
});

test('a hit on a value in a sparse sealed slab copies it out, so hot values do not pin dead slabs', () => {
  const arena = new SlabArena({ slabBytes: 40, maxValueBytes: 10 });
  const first = Array.from({ length: 4 }, (_, i) => ByteView.copyOf(new Uint8Array(10).fill(i + 1)));
  for (const view of first) ByteView.retain(view, arena);
  const oldSlab = ByteView.placement(first[0]!)!.slab;
  const next = ByteView.copyOf(new Uint8Array(10).fill(9));
  ByteView.retain(next, arena); // seals the first slab
  assert.notEqual(ByteView.placement(next)!.slab, oldSlab);
  ByteView.touch(first[0]!, arena);
  assert.equal(ByteView.placement(first[0]!)!.slab, oldSlab, 'a dense slab stays');
  ByteView.release(first[1]!);
  ByteView.release(first[2]!);
  ByteView.release(first[3]!); // 10 of 40 bytes live: sparse
  assert.equal(oldSlab.sparse, true);
  ByteView.touch(first[0]!, arena);
  assert.notEqual(ByteView.placement(first[0]!)!.slab, oldSlab, 'moved out of the sparse slab');
  assert.deepEqual([...first[0]!.toBytes()], new Array(10).fill(1));
  assert.equal(oldSlab.live, 0);
  assert.equal(arena.stats().liveBytes, 20);
  assert.equal(arena.stats().relocations, 1);
});

test('arena options are validated', () => {
  assert.throws(() => new SlabArena({ slabBytes: 0 }), /slabBytes/);
  assert.throws(() => new SlabArena({ slabBytes: 64, maxValueBytes: 65 }), /maxValueBytes/);
  assert.throws(() => new SlabArena({ sparseFraction: 2 }), /sparseFraction/);
});

test('adopt wraps without a copy; a cache that keeps a small adopted value copies it into a slab', () => {
  const body = Buffer.from('xx630yy');
  const view = ByteView.adopt(body.subarray(2, 5));
  assert.equal(view.toString(), '630');
  const lru = new ByteLru(1000);
  lru.set('Tom', view);
  body.fill(0); // the response buffer is reused or dropped: the cached value must not care
  assert.equal(lru.get('Tom')!.toString(), '630');
});

test('textForWrite: a small cached value as latin1 text that encodes back to exactly its bytes, kept while cached', () => {
  const arena = new SlabArena();
  const every = ByteView.copyOf(new Uint8Array(256).map((_, i) => i));
  assert.equal(ByteView.textForWrite(every), undefined, 'not cached: the caller writes the bytes');
  ByteView.retain(every, arena);
  const text = ByteView.textForWrite(every)!;
  assert.equal(text.length, 256);
  assert.deepEqual(Buffer.from(text, 'latin1'), Buffer.from(every.toBytes()));
  assert.equal(ByteView.textForWrite(every), text, 'made once, then kept');
  ByteView.release(every);
  assert.equal(ByteView.textForWrite(every), undefined, 'no cache holds it: the text is dropped');
  ByteView.retain(every, arena);
  assert.equal(ByteView.textForWrite(every), text);

  const largest = ByteView.copyOf(new Uint8Array(TEXT_WRITE_MAX_BYTES).fill(0xe9));
  const larger = ByteView.copyOf(new Uint8Array(TEXT_WRITE_MAX_BYTES + 1).fill(0xe9));
  ByteView.retain(largest, arena);
  ByteView.retain(larger, arena);
  assert.equal(ByteView.textForWrite(largest)!.length, TEXT_WRITE_MAX_BYTES);
  assert.equal(ByteView.textForWrite(larger), undefined);
});
