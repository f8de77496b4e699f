import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestRates } from '../../src/engine/request-rate.js';

/** Records `perSecond` evenly spaced requests a second for `key` for `seconds`, from `start`; returns the last rate and the time. */
function drive(rates: RequestRates, key: string, start: number, perSecond: number, seconds: number): { qps: number; now: number } {
  let qps = 0;
  let now = start;
  for (let i = 0; i < perSecond * seconds; i++) {
    now = start + (i * 1000) / perSecond;
    qps = rates.record(key, now);
  }
  return { qps, now };
}

test('a steady rate reads as itself, within a few percent, soon after it starts and after many minutes', () => {
  const rates = new RequestRates(0);
  const early = drive(rates, 'k', 0, 50, 3);
  assert.ok(Math.abs(early.qps - 50) < 3, `after 3 s: ${early.qps}`);
  const later = drive(rates, 'k', early.now + 20, 50, 300);
  assert.ok(Math.abs(later.qps - 50) < 2.5, `after 5 minutes: ${later.qps}`);
});

test('a key that cools off reads lower within the minute, and near 0 after two', () => {
  const rates = new RequestRates(0);
  const { now } = drive(rates, 'k', 0, 100, 120);
  assert.ok(rates.record('k', now + 30_000) < 60, 'half a minute later');
  assert.ok(rates.record('k', now + 150_000) < 0.1, 'two and a half minutes later');
});

test('a single request reads as at most one per second', () => {
  assert.equal(new RequestRates(5000).record('k', 5000), 1);
});

test('keys are counted apart: 100,000 cold keys beside a hot one inflate neither it nor each other beyond collisions', () => {
  const rates = new RequestRates(0);
  // Two minutes so the estimate is the sliding minute's: the hot key at 20/s, 100,000 keys asked once each in the last minute.
  drive(rates, 'hot', 0, 20, 60);
  let now = 60_000;
  let coldMax = 0;
  for (let i = 0; i < 100_000; i++) {
    now = 60_000 + i * 0.6;
    coldMax = Math.max(coldMax, rates.record(`cold-${i}`, now));
    if (i % 50 === 0) rates.record('hot', now);
  }
  const hot = rates.record('hot', now);
  // The last window's 20/s has slid out; 2,001 requests in this one: 33/s.
  assert.ok(hot > 33 && hot < 35, `hot key ${hot}/s`);
  // One request is 1/60 per second; a cold key that shares all its cells with others reads a few.
  assert.ok(coldMax < 0.2, `coldest estimate too high: ${coldMax}/s`);
});

test('unicode keys are counted by their UTF-8 bytes: the same key in any string form is one count', () => {
  const rates = new RequestRates(0);
  rates.record('日本', 1000);
  assert.equal(rates.record('日本'.normalize('NFC'), 1000), 2);
});
