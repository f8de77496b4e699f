// group-registry.test.ts checks the registry: unique names, creation order, one arena shared by its groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { DuplicateGroupError } from '../../src/errors.js';
import { SegmentLedger } from '../../src/memory/segment-ledger.js';

test('the registry refuses a second group with the same name and keeps creation order', () => {
  const registry = new GroupRegistry();
  registry.create({ name: 'scores', cacheBytes: 10, getter: async () => 'x' });
  registry.create({ name: 'pages', cacheBytes: 10, getter: async () => 'x' });
  assert.throws(() => registry.create({ name: 'scores', cacheBytes: 10, getter: async () => 'x' }), DuplicateGroupError);
  assert.deepEqual(registry.list().map((g) => g.name), ['scores', 'pages']);
  assert.equal(registry.get('nope'), undefined);
});

test("every group of a registry counts its segments in the registry's ledger, and registries do not share one", async () => {
  const ledger = new SegmentLedger();
  const registry = new GroupRegistry({ segmentLedger: ledger });
  assert.equal(registry.segmentLedger, ledger);
  const scores = registry.create({ name: 'scores', cacheBytes: 1 << 20, getter: async (key) => `score of ${key}` });
  const pages = registry.create({ name: 'pages', cacheBytes: 1 << 20, getter: async (key) => `page ${key}` });
  await scores.get('Tom');
  await pages.get('home');
  assert.equal(ledger.stats().segments, 2, "each group's main cache opened a segment, counted in the one ledger");

  const other = new GroupRegistry();
  assert.notEqual(other.segmentLedger, ledger);
  await other.create({ name: 'scores', cacheBytes: 1 << 20, getter: async () => 'x' }).get('k');
  assert.equal(ledger.stats().segments, 2, "another registry's segments are counted elsewhere");
  assert.equal(other.segmentLedger.stats().segments, 1);
});
