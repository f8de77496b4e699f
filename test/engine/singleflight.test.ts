import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SingleFlight } from '../../src/engine/singleflight.js';

test('concurrent calls for one key share one execution and its result', async () => {
  const flight = new SingleFlight<number>();
  let calls = 0;
  let release!: (n: number) => void;
  const fn = () => {
    calls++;
    return new Promise<number>((resolve) => (release = resolve));
  };
  const results = Array.from({ length: 100 }, () => flight.do('k', fn));
  assert.equal(results.filter((r) => r.shared).length, 99);
  await Promise.resolve();
  release(7);
  assert.deepEqual(await Promise.all(results.map((r) => r.promise)), Array(100).fill(7));
  assert.equal(calls, 1);
  assert.equal(flight.size, 0);
});

test('an error reaches every waiter, and the next call runs again', async () => {
  const flight = new SingleFlight<number>();
  let calls = 0;
  const failing = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
    throw new Error('boom');
  };
  const waiters = [flight.do('k', failing), flight.do('k', failing), flight.do('k', failing)];
  for (const w of waiters) await assert.rejects(w.promise, /boom/);
  assert.equal(calls, 1);
  assert.equal((await flight.do('k', async () => 5).promise), 5);
});

test('a synchronous throw rejects and leaves nothing in flight', async () => {
  const flight = new SingleFlight<number>();
  await assert.rejects(flight.do('k', () => { throw new Error('sync'); }).promise, /sync/);
  assert.equal(flight.size, 0);
});

test('different keys run independently', async () => {
  const flight = new SingleFlight<string>();
  const a = flight.do('a', async () => 'A');
  const b = flight.do('b', async () => 'B');
  assert.equal(a.shared || b.shared, false);
  assert.deepEqual(await Promise.all([a.promise, b.promise]), ['A', 'B']);
});
