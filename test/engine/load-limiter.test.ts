import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadLimiter } from '../../src/engine/load-limiter.js';
import { LoadShedError } from '../../src/errors.js';

/** A load that finishes when `finish` is called, counting how many were started. */
function loads() {
  const pending: Array<() => void> = [];
  let started = 0;
  const load = () => {
    started++;
    return new Promise<string>((resolve) => pending.push(() => resolve('done')));
  };
  return { load, finishOldest: () => pending.shift()!(), started: () => started };
}

test('runs up to concurrency at once, queues up to queue more in order, and sheds the rest with a 503', async () => {
  const limiter = new LoadLimiter({ concurrency: 2, queue: 1, name: 'origin x' });
  const { load, finishOldest, started } = loads();
  const running = [limiter.run(load), limiter.run(load)];
  const queued = limiter.run(load);
  assert.deepEqual([started(), limiter.running, limiter.queued], [2, 2, 1]);
  await assert.rejects(limiter.run(load), (err: unknown) => err instanceof LoadShedError && err.status === 503 && /origin x: 2 loads running and 1 waiting/.test(err.message));
  assert.equal(limiter.shed, 1);
  finishOldest();
  assert.equal(await running[0], 'done');
  assert.deepEqual([started(), limiter.running, limiter.queued], [3, 2, 0]);
  finishOldest();
  finishOldest();
  assert.deepEqual(await Promise.all([running[1], queued]), ['done', 'done']);
  assert.equal(limiter.running, 0);
});

test('a queued load whose signal aborts leaves the queue and never starts', async () => {
  const limiter = new LoadLimiter({ concurrency: 1, queue: 4, name: 'o' });
  const { load, finishOldest, started } = loads();
  const first = limiter.run(load);
  const caller = new AbortController();
  const leaving = limiter.run(load, caller.signal);
  const staying = limiter.run(load);
  caller.abort(new Error('caller left'));
  await assert.rejects(leaving, /caller left/);
  assert.deepEqual([limiter.queued, limiter.leftQueue], [1, 1]);
  finishOldest();
  await first;
  finishOldest();
  assert.equal(await staying, 'done');
  assert.equal(started(), 2);
});

test('a failing load frees its turn', async () => {
  const limiter = new LoadLimiter({ concurrency: 1, queue: 1, name: 'o' });
  await assert.rejects(limiter.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await limiter.run(async () => 'next'), 'next');
  assert.equal(limiter.running, 0);
});

test('settings that cannot work are refused by name', () => {
  assert.throws(() => new LoadLimiter({ concurrency: 0, queue: 1, name: 'o' }), /concurrency must be a whole number ≥ 1/);
  assert.throws(() => new LoadLimiter({ concurrency: 1, queue: -1, name: 'o' }), /queue must be a whole number ≥ 0/);
});
