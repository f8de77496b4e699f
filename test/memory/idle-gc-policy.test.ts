import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleGcPolicy, thresholdsForBudget } from '../../src/memory/idle-gc-policy.js';

const MiB = 1024 * 1024;

test('no collection while new segments keep coming, one once a tick finds none', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  assert.equal(policy.tick({ segments: 10, droppedBytes: 0 }), undefined, 'the first tick has nothing to compare with');
  assert.equal(policy.tick({ segments: 50, droppedBytes: 20 * MiB }), undefined, 'still evicting: V8 collects on its own');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 40 * MiB }), undefined);
  assert.equal(policy.tick({ segments: 90, droppedBytes: 40 * MiB }), 'quiet', 'quiet, and 40 MiB wait');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 0 }), undefined, 'the tick after a collection never collects');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 0 }), undefined);
});

test('a quiet ledger with less than the threshold dropped is left alone', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 5, droppedBytes: 15 * MiB });
  for (let i = 0; i < 10; i++) assert.equal(policy.tick({ segments: 5, droppedBytes: 15 * MiB }), undefined);
});

test('segments a collection could not free do not cause a collection per tick', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 40, droppedBytes: 30 * MiB });
  assert.equal(policy.tick({ segments: 40, droppedBytes: 30 * MiB }), 'quiet');
  // A slow reader pins 20 MiB of the dropped segments.
  assert.equal(policy.tick({ segments: 40, droppedBytes: 20 * MiB }), undefined);
  for (let i = 0; i < 5; i++) assert.equal(policy.tick({ segments: 40, droppedBytes: 20 * MiB }), undefined, `tick ${i}: 20 MiB is the floor now`);
  // More eviction, then quiet again: the threshold counts from the floor.
  assert.equal(policy.tick({ segments: 60, droppedBytes: 30 * MiB }), undefined);
  assert.equal(policy.tick({ segments: 60, droppedBytes: 30 * MiB }), undefined, '10 MiB above the floor');
  assert.equal(policy.tick({ segments: 80, droppedBytes: 36 * MiB }), undefined);
  assert.equal(policy.tick({ segments: 80, droppedBytes: 36 * MiB }), 'quiet', '16 MiB above the floor');
});

test('the floor falls when pinned segments are freed later, so the next collection needs no more than the threshold', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 1, droppedBytes: 20 * MiB });
  assert.equal(policy.tick({ segments: 1, droppedBytes: 20 * MiB }), 'quiet');
  policy.tick({ segments: 1, droppedBytes: 20 * MiB }); // floor 20 MiB
  policy.tick({ segments: 1, droppedBytes: 0 }); // freed by a later GC of V8's own
  policy.tick({ segments: 30, droppedBytes: 16 * MiB });
  assert.equal(policy.tick({ segments: 30, droppedBytes: 16 * MiB }), 'quiet');
});

test('bytes written into segments count as garbage (the buffers they arrived in) until the next collection', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB });
  policy.tick({ segments: 3, droppedBytes: 0, writtenBytes: 3 * MiB });
  assert.equal(policy.tick({ segments: 3, droppedBytes: 0, writtenBytes: 3 * MiB }), undefined, 'quiet, 3 MiB written: under the threshold');
  assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), undefined, 'not quiet, and no busy threshold');
  assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), 'quiet', 'quiet, 4 MiB written');
  policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB });
  for (let i = 0; i < 3; i++) assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), undefined, 'what was written before the collection is not counted again');
  policy.tick({ segments: 6, droppedBytes: 1 * MiB, writtenBytes: 7 * MiB });
  assert.equal(policy.tick({ segments: 6, droppedBytes: 1 * MiB, writtenBytes: 7 * MiB }), 'quiet', '3 MiB written + 1 MiB dropped since');
});

test("old space grown since the last collection counts; hits alone (no new segment) never cause a collection", () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB });
  const tick = (segments: number, oldSpace: number) => policy.tick({ segments, droppedBytes: 0, oldSpaceBytes: oldSpace * MiB });
  tick(1, 10);
  assert.equal(tick(1, 13), undefined, '3 MiB of growth');
  assert.equal(tick(2, 13), undefined, 'a segment came: armed');
  assert.equal(tick(2, 14), 'quiet', 'quiet, 4 MiB of old space growth');
  tick(2, 11); // after the collection, 11 MiB live: the new base
  for (let i = 0; i < 5; i++) assert.equal(tick(2, 30), undefined, 'no segment since the collection: not armed');
  tick(3, 30);
  assert.equal(tick(3, 30), 'quiet');
});

test('values cached into the same segment keep the policy busy; the quiet collection comes once writes stop', () => {
  // 8-byte values: a 1 MiB segment takes tens of thousands of them, seconds of misses, while requests leave old-space garbage.
  const policy = new IdleGcPolicy({ thresholdBytes: MiB, busyThresholdBytes: 8 * MiB });
  const tick = (written: number, oldSpace: number) => policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: written, oldSpaceBytes: oldSpace * MiB });
  tick(100, 10);
  assert.equal(tick(200_000, 13), undefined, 'values are still being cached: 3 MiB is under the busy threshold');
  assert.equal(tick(400_000, 19), 'under-load', '9 MiB of old-space growth while caching');
  tick(600_000, 12); // after the collection, 12 MiB live
  assert.equal(tick(800_000, 12.5), undefined);
  assert.equal(tick(800_000, 13.5), 'quiet', 'nothing cached since the last tick, 1.5 MiB of growth');
  for (let i = 0; i < 3; i++) assert.equal(tick(800_000, 14 + i), undefined, 'no value cached since the collection: hits alone never collect');
});

test("columns and index slots a store outgrew count as garbage", () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB });
  policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: 100, outgrownBytes: 0 });
  assert.equal(policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: 200, outgrownBytes: 3 * MiB }), undefined, 'not quiet: a value was cached');
  assert.equal(policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: 200, outgrownBytes: 3 * MiB }), undefined, 'quiet, but 3 MiB is under the threshold');
  policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: 300, outgrownBytes: 4 * MiB });
  assert.equal(policy.tick({ segments: 1, droppedBytes: 0, writtenBytes: 300, outgrownBytes: 4 * MiB }), 'quiet', '4 MiB outgrown');
});

test('under load, a collection once the busy threshold of garbage waits', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB, busyThresholdBytes: 16 * MiB });
  let segments = 0;
  const busy = (dropped: number, written: number) => policy.tick({ segments: ++segments, droppedBytes: dropped * MiB, writtenBytes: written * MiB });
  assert.equal(busy(0, 0), undefined);
  assert.equal(busy(8, 7), undefined, '15 MiB');
  assert.equal(busy(8, 8), 'under-load', '16 MiB');
  assert.equal(busy(1, 9), undefined, 'the tick after a collection never collects: 1 MiB is the floor now');
  assert.equal(busy(9, 15), undefined, '8 MiB dropped above the floor + 7 MiB written');
  assert.equal(busy(10, 15), 'under-load');
});

test('thresholds for a budget: a sixteenth idle (1 to 16 MiB), a quarter busy (at least 8 MiB)', () => {
  assert.deepEqual(thresholdsForBudget(64 * MiB), { thresholdBytes: 4 * MiB, busyThresholdBytes: 16 * MiB });
  assert.deepEqual(thresholdsForBudget(4 * MiB), { thresholdBytes: MiB, busyThresholdBytes: 8 * MiB });
  assert.deepEqual(thresholdsForBudget(1024 * MiB), { thresholdBytes: 16 * MiB, busyThresholdBytes: 256 * MiB });
  assert.deepEqual(thresholdsForBudget(0), { thresholdBytes: MiB, busyThresholdBytes: 8 * MiB });
});

test('the threshold is validated', () => {
  assert.throws(() => new IdleGcPolicy({ thresholdBytes: 4 * MiB, busyThresholdBytes: MiB }), /busyThresholdBytes/);
  assert.throws(() => new IdleGcPolicy({ thresholdBytes: 0 }), /thresholdBytes/);
  assert.throws(() => new IdleGcPolicy({ thresholdBytes: 1.5 }), /thresholdBytes/);
  assert.equal(new IdleGcPolicy().thresholdBytes, 16 * MiB);
});
