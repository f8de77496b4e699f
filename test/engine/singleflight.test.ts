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

test('a forgotten call keeps its callers but no new ones: the next call runs afresh, and the old one knows', async () => {
  const flight = new SingleFlight<string>();
  const releases: Array<(value: string) => void> = [];
  const seen: Array<{ forgotten: boolean }> = [];
  const fn = (call: { forgotten: boolean }) => {
    seen.push(call);
    return new Promise<string>((resolve) => releases.push(resolve));
  };
  const first = flight.do('k', fn);
  const joined = flight.do('k', fn);
  await Promise.resolve();
  flight.forget('k');
  const second = flight.do('k', fn);
  assert.equal(second.shared, false);
  await Promise.resolve();
  assert.deepEqual(seen.map((call) => call.forgotten), [true, false]);
  releases[0]!('old');
  releases[1]!('new');
  assert.deepEqual(await Promise.all([first.promise, joined.promise, second.promise]), ['old', 'old', 'new']);
  assert.equal(flight.size, 0, 'the old call ending does not remove the new one early, and both are gone');

  const a = flight.do('a', fn);
  const b = flight.do('b', fn);
  await Promise.resolve();
  flight.forgetAll();
  assert.equal(flight.size, 0);
  assert.ok(seen.slice(2).every((call) => call.forgotten));
  releases[2]!('a');
  releases[3]!('b');
  assert.deepEqual(await Promise.all([a.promise, b.promise]), ['a', 'b']);
});
