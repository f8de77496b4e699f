// until-aborted.test.ts: a caller stops waiting when its signal aborts; otherwise it gets the shared answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { untilAborted } from '../../src/engine/until-aborted.js';

test('gives the answer when it comes first, and runs nothing on leaving', async () => {
  let left = 0;
  assert.equal(await untilAborted(Promise.resolve(7), new AbortController().signal, () => left++), 7);
  await assert.rejects(untilAborted(Promise.reject(new Error('boom')), new AbortController().signal, () => left++), /boom/);
  assert.equal(left, 0);
});

test("rejects with the signal's reason when it aborts first, once the caller has left", async () => {
  const controller = new AbortController();
  let left = 0;
  let settle: (value: number) => void = () => {};
  const shared = new Promise<number>((resolve) => (settle = resolve));
  const waiting = untilAborted(shared, controller.signal, () => left++);
  controller.abort(new Error('client gone'));
  await assert.rejects(waiting, /client gone/);
  assert.equal(left, 1);
  settle(1);
  assert.equal(await shared, 1, 'the shared answer still reaches the others');
});

test('an already-aborted signal rejects at once, leaves, and the shared rejection is not left unhandled', async () => {
  const controller = new AbortController();
  controller.abort(new Error('gone before'));
  let left = 0;
  await assert.rejects(untilAborted(Promise.reject(new Error('later')), controller.signal, () => left++), /gone before/);
  assert.equal(left, 1);
});
