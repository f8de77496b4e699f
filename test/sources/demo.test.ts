import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoSource } from '../../src/sources/demo.js';
import { NotFoundError } from '../../src/errors.js';

test("the seed's scores, with a lookup log and not-found for the rest", async () => {
  const lookups: string[] = [];
  const source = demoSource({ latencyMs: 1, onLookup: (key) => lookups.push(key) });
  assert.equal(await source('Tom'), '630');
  assert.equal(await source('Jack'), '589');
  assert.equal(await source('Sam'), '567');
  await assert.rejects(source('kkk'), (e: unknown) => e instanceof NotFoundError && e.message === 'kkk not exist');
  await assert.rejects(source('toString'), NotFoundError); // no prototype keys
  assert.deepEqual(lookups, ['Tom', 'Jack', 'Sam', 'kkk', 'toString']);
});

test('the latency is honoured and can be aborted', async () => {
  const source = demoSource({ latencyMs: 80 });
  const started = Date.now();
  await source('Tom');
  assert.ok(Date.now() - started >= 75);
  const controller = new AbortController();
  const pending = source('Tom', controller.signal);
  controller.abort(new Error('gone'));
  await assert.rejects(pending, /gone/);
});
