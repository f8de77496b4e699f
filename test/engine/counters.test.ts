import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeroed } from '../../src/engine/counters.js';

test('zeroed gives every named counter at 0, in the order named, and nothing else', () => {
  const counters = zeroed(['gets', 'hits', 'misses'] as const);
  assert.deepEqual(counters, { gets: 0, hits: 0, misses: 0 });
  assert.deepEqual(Object.keys(counters), ['gets', 'hits', 'misses']);
  counters.hits++;
  assert.equal(counters.hits, 1);
});
