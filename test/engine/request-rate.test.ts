import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestRate } from '../../src/engine/request-rate.js';

/** Records `perSecond` evenly spaced requests a second for `seconds`, from `start`; returns the last rate and the time. */
function drive(rate: RequestRate, start: number, perSecond: number, seconds: number): { qps: number; now: number } {
  let qps = 0;
  let now = start;
  for (let i = 0; i < perSecond * seconds; i++) {
    now = start + (i * 1000) / perSecond;
    qps = rate.record(now);
  }
  return { qps, now };
}

test('a steady rate reads as itself, within a few percent, soon after it starts and after many minutes', () => {
  const rate = new RequestRate(0);
  const early = drive(rate, 0, 50, 3);
  assert.ok(Math.abs(early.qps - 50) < 3, `after 3 s: ${early.qps}`);
  const later = drive(rate, early.now + 20, 50, 300);
  assert.ok(Math.abs(later.qps - 50) < 2.5, `after 5 minutes: ${later.qps}`);
});

test('a key that cools off reads lower within the minute, and near 0 after two', () => {
  const rate = new RequestRate(0);
  const { now } = drive(rate, 0, 100, 120);
  assert.ok(rate.record(now + 30_000) < 60, 'half a minute later');
  assert.ok(rate.record(now + 150_000) < 0.1, 'two and a half minutes later');
});

test('a single request reads as at most one per second', () => {
  assert.equal(new RequestRate(5000).record(5000), 1);
});
