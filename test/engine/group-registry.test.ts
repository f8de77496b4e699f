// group-registry.test.ts checks the registry: unique names, creation order, one arena shared by its groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { DuplicateGroupError } from '../../src/errors.js';
import { SlabArena } from '../../src/memory/slab.js';

test('the registry refuses a second group with the same name and keeps creation order', () => {
  const registry = new GroupRegistry();
  registry.create({ name: 'scores', cacheBytes: 10, getter: async () => 'x' });
  registry.create({ name: 'pages', cacheBytes: 10, getter: async () => 'x' });
  assert.throws(() => registry.create({ name: 'scores', cacheBytes: 10, getter: async () => 'x' }), DuplicateGroupError);
  assert.deepEqual(registry.list().map((g) => g.name), ['scores', 'pages']);
  assert.equal(registry.get('nope'), undefined);
});

test("every group of a registry keeps its values in the registry's arena, and registries do not share one", async () => {
  const arena = new SlabArena();
  const registry = new GroupRegistry({ arena });
  assert.equal(registry.arena, arena);
  const scores = registry.create({ name: 'scores', cacheBytes: 1 << 20, getter: async (key) => `score of ${key}` });
  const pages = registry.create({ name: 'pages', cacheBytes: 1 << 20, getter: async (key) => `page ${key}` });
  await scores.get('Tom');
  await pages.get('home');
  const expected = Buffer.byteLength('score of Tom') + Buffer.byteLength('page home');
  assert.equal(arena.stats().liveBytes, expected, 'both groups pack their values into the one arena');

  const other = new GroupRegistry();
  assert.notEqual(other.arena, arena);
  await other.create({ name: 'scores', cacheBytes: 1 << 20, getter: async () => 'x' }).get('k');
  assert.equal(arena.stats().liveBytes, expected, "another registry's values live elsewhere");
  assert.equal(other.arena.stats().liveBytes, 1);
});
