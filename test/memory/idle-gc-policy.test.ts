import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleGcPolicy, thresholdsForBudget } from '../../src/memory/idle-gc-policy.js';

const MiB = 1024 * 1024;

test('no collection while new segments keep coming, one once a tick finds none', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  assert.equal(policy.tick({ segments: 10, droppedBytes: 0 }), false, 'the first tick has nothing to compare with');
  assert.equal(policy.tick({ segments: 50, droppedBytes: 20 * MiB }), false, 'still evicting: V8 collects on its own');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 40 * MiB }), false);
  assert.equal(policy.tick({ segments: 90, droppedBytes: 40 * MiB }), true, 'quiet, and 40 MiB wait');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 0 }), false, 'the tick after a collection never collects');
  assert.equal(policy.tick({ segments: 90, droppedBytes: 0 }), false);
});

test('a quiet ledger with less than the threshold dropped is left alone', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 5, droppedBytes: 15 * MiB });
  for (let i = 0; i < 10; i++) assert.equal(policy.tick({ segments: 5, droppedBytes: 15 * MiB }), false);
});

test('segments a collection could not free do not cause a collection per tick', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 40, droppedBytes: 30 * MiB });
  assert.equal(policy.tick({ segments: 40, droppedBytes: 30 * MiB }), true);
  // A slow reader pins 20 MiB of the dropped segments.
  assert.equal(policy.tick({ segments: 40, droppedBytes: 20 * MiB }), false);
  for (let i = 0; i < 5; i++) assert.equal(policy.tick({ segments: 40, droppedBytes: 20 * MiB }), false, `tick ${i}: 20 MiB is the floor now`);
  // More eviction, then quiet again: the threshold counts from the floor.
  assert.equal(policy.tick({ segments: 60, droppedBytes: 30 * MiB }), false);
  assert.equal(policy.tick({ segments: 60, droppedBytes: 30 * MiB }), false, '10 MiB above the floor');
  assert.equal(policy.tick({ segments: 80, droppedBytes: 36 * MiB }), false);
  assert.equal(policy.tick({ segments: 80, droppedBytes: 36 * MiB }), true, '16 MiB above the floor');
});

test('the floor falls when pinned segments are freed later, so the next collection needs no more than the threshold', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 16 * MiB });
  policy.tick({ segments: 1, droppedBytes: 20 * MiB });
  assert.equal(policy.tick({ segments: 1, droppedBytes: 20 * MiB }), true);
  policy.tick({ segments: 1, droppedBytes: 20 * MiB }); // floor 20 MiB
  policy.tick({ segments: 1, droppedBytes: 0 }); // freed by a later GC of V8's own
  policy.tick({ segments: 30, droppedBytes: 16 * MiB });
  assert.equal(policy.tick({ segments: 30, droppedBytes: 16 * MiB }), true);
});

test('bytes written into segments count as garbage (the buffers they arrived in) until the next collection', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB });
  policy.tick({ segments: 3, droppedBytes: 0, writtenBytes: 3 * MiB });
  assert.equal(policy.tick({ segments: 3, droppedBytes: 0, writtenBytes: 3 * MiB }), false, 'quiet, 3 MiB written: under the threshold');
  assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), false, 'not quiet, and no busy threshold');
  assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), true, 'quiet, 4 MiB written');
  policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB });
  for (let i = 0; i < 3; i++) assert.equal(policy.tick({ segments: 4, droppedBytes: 0, writtenBytes: 4 * MiB }), false, 'what was written before the collection is not counted again');
  policy.tick({ segments: 6, droppedBytes: 1 * MiB, writtenBytes: 7 * MiB });
  assert.equal(policy.tick({ segments: 6, droppedBytes: 1 * MiB, writtenBytes: 7 * MiB }), true, '3 MiB written + 1 MiB dropped since');
});

test("old space grown since the last collection counts; hits alone (no new segment) never cause a collection", () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB });
  const tick = (segments: number, oldSpace: number) => policy.tick({ segments, droppedBytes: 0, oldSpaceBytes: oldSpace * MiB });
  tick(1, 10);
  assert.equal(tick(1, 13), false, '3 MiB of growth');
  assert.equal(tick(2, 13), false, 'a segment came: armed');
  assert.equal(tick(2, 14), true, 'quiet, 4 MiB of old space growth');
  tick(2, 11); // after the collection, 11 MiB live: the new base
  for (let i = 0; i < 5; i++) assert.equal(tick(2, 30), false, 'no segment since the collection: not armed');
  tick(3, 30);
  assert.equal(tick(3, 30), true);
});

test('under load, a collection once the busy threshold of garbage waits', () => {
  const policy = new IdleGcPolicy({ thresholdBytes: 4 * MiB, busyThresholdBytes: 16 * MiB });
  let segments = 0;
  const busy = (dropped: number, written: number) => policy.tick({ segments: ++segments, droppedBytes: dropped * MiB, writtenBytes: written * MiB });
  assert.equal(busy(0, 0), false);
  assert.equal(busy(8, 7), false, '15 MiB');
  assert.equal(busy(8, 8), true, '16 MiB');
  assert.equal(busy(1, 9), false, 'the tick after a collection never collects: 1 MiB is the floor now');
  assert.equal(busy(9, 15), false, '8 MiB dropped above the floor + 7 MiB written');
  assert.equal(busy(10, 15), true);
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
