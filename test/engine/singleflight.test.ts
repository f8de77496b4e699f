import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlightAbandonedError, SingleFlight, type Flight } from '../../src/engine/singleflight.js';

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

test('a caller whose signal aborts leaves alone; the flight is aborted only when the last one leaves', async () => {
  const flight = new SingleFlight<string>();
  let seen!: AbortSignal;
  let release!: (value: string) => void;
  const fn = ({ signal }: { signal: AbortSignal }) => {
    seen = signal;
    return new Promise<string>((resolve) => (release = resolve));
  };
  const callers = [new AbortController(), new AbortController(), new AbortController()];
  const promises = callers.map((caller) => flight.do('k', fn, caller.signal).promise);
  await Promise.resolve();
  callers[0]!.abort(new Error('first gone'));
  await assert.rejects(promises[0]!, /first gone/);
  callers[1]!.abort(new Error('second gone'));
  await assert.rejects(promises[1]!, /second gone/);
  assert.equal(seen.aborted, false, 'one caller still waits');
  release('v');
  assert.equal(await promises[2], 'v');
  assert.equal(flight.abandoned, 0);
});

test('when every caller left, the flight is aborted and the next call starts afresh; a caller without a signal pins it', async () => {
  const flight = new SingleFlight<string>();
  const signals: AbortSignal[] = [];
  const fn = ({ signal }: { signal: AbortSignal }) => {
    signals.push(signal);
    return new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
  };
  const caller = new AbortController();
  const gone = flight.do('k', fn, caller.signal).promise;
  await Promise.resolve();
  caller.abort(new Error('gone'));
  await assert.rejects(gone, /gone/);
  assert.equal(signals[0]!.aborted, true);
  assert.equal(flight.abandoned, 1);
  assert.equal(flight.size, 0);
  // A caller without a signal never leaves: the flight it joined is not aborted when the others go.
  const leaving = new AbortController();
  const pinned = flight.do('k', fn);
  const joined = flight.do('k', fn, leaving.signal);
  assert.equal(joined.shared, true);
  await Promise.resolve();
  leaving.abort(new Error('left'));
  await assert.rejects(joined.promise, /left/);
  assert.equal(signals[1]!.aborted, false);
  assert.equal(signals.length, 2);
  flight.forgetAll();
  void pinned.promise.catch(() => undefined);
});

test('a flight that reads its signal only after every caller left finds it aborted, and abandoned says so', async () => {
  const flight = new SingleFlight<string>();
  let call!: Flight;
  let release!: (value: string) => void;
  const caller = new AbortController();
  const { promise } = flight.do('k', (started) => {
    call = started;
    return new Promise<string>((resolve) => (release = resolve));
  }, caller.signal);
  await Promise.resolve();
  assert.equal(call.abandoned, false);
  caller.abort(new Error('gone'));
  await assert.rejects(promise, /gone/);
  assert.equal(call.abandoned, true);
  assert.equal(call.signal.aborted, true);
  assert.ok(call.signal.reason instanceof FlightAbandonedError);
  assert.equal(call.signal, call.signal, 'one signal per flight');
  release('late');
});

test('a caller whose signal is already aborted is refused without starting anything', async () => {
  const flight = new SingleFlight<string>();
  let calls = 0;
  const { promise } = flight.do('k', async () => String(++calls), AbortSignal.abort(new Error('too late')));
  await assert.rejects(promise, /too late/);
  assert.equal(calls, 0);
  assert.equal(flight.size, 0);
});
