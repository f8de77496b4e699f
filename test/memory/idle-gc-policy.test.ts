import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleGcPolicy } from '../../src/memory/idle-gc-policy.js';

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

test('the threshold is validated', () => {
  assert.throws(() => new IdleGcPolicy({ thresholdBytes: 0 }), /thresholdBytes/);
  assert.throws(() => new IdleGcPolicy({ thresholdBytes: 1.5 }), /thresholdBytes/);
  assert.equal(new IdleGcPolicy().thresholdBytes, 16 * MiB);
});
