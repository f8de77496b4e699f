import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Segments } from '../../../src/engine/store/segments.js';

test('records are appended front to back; one that does not fit seals the segment, its tail counted dead', () => {
  const segments = new Segments(1024);
  const first = segments.allocate(100);
  assert.equal(segments.lastOffset, 0);
  assert.equal(segments.allocate(100), first);
  assert.equal(segments.lastOffset, 100);
  for (let i = 0; i < 8; i++) segments.allocate(100); // 1000 bytes used
  const second = segments.allocate(100);
  assert.notEqual(second, first);
  assert.equal(segments.lastOffset, 0);
  assert.equal(segments.sealedDeadBytes, 24);
  assert.equal(segments.liveBytes, 1100);
  assert.equal(segments.heldBytes, 2048);
});

test('a record over an eighth of a segment gets its own buffer, freed with it', () => {
  const segments = new Segments(1024);
  segments.allocate(10);
  const own = segments.allocate(129);
  assert.equal(segments.bytesOf(own).byteLength, 129);
  assert.equal(segments.count, 2);
  segments.release(own, 129);
  assert.equal(segments.count, 1);
  assert.equal(segments.heldBytes, 1024);
  assert.equal(segments.sealedDeadBytes, 0);
});

test('a sealed segment whose records are all released is dropped; its bytes stay readable through old views', () => {
  const segments = new Segments(1024);
  const first = segments.allocate(600);
  const bytes = segments.bytesOf(first);
  bytes.fill(7, 0, 600);
  segments.allocate(600); // seals the first
  segments.release(first, 600);
  assert.equal(segments.count, 1);
  assert.equal(segments.sealedDeadBytes, 0);
  assert.ok(bytes.subarray(0, 600).every((b) => b === 7));
});

test('compaction is due past an eighth of live bytes plus a segment, and picks the sparsest segments first', () => {
  const segments = new Segments(1024);
  const records: [number, number][] = [];
  for (let i = 0; i < 80; i++) records.push([segments.allocate(100), 100]); // 8 segments of 10 records
  assert.equal(segments.needsCompaction(), false);
  // Empty 9 of 10 records in segment A, 5 of 10 in B, 1 of 10 in every other sealed one.
  const bySegment = new Map<number, number>();
  for (const [segment] of records) bySegment.set(segment, (bySegment.get(segment) ?? 0) + 1);
  const ids = [...bySegment.keys()];
  const [a, b] = ids;
  const kill = (segment: number, n: number) => {
    for (let i = 0; i < n; i++) segments.release(segment, 100);
  };
  kill(a!, 9);
  kill(b!, 5);
  for (const s of ids.slice(2, -1)) kill(s, 1);
  assert.ok(segments.needsCompaction(), `dead ${segments.sealedDeadBytes} live ${segments.liveBytes}`);
  const chosen = segments.sparsest();
  assert.equal(chosen[a!], 1);
  assert.equal(chosen[b!], 1);
  assert.equal(chosen[ids.at(-1)!], 0, 'never the active segment');
});
