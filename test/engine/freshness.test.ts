import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiryOf, Freshness, isFresh, withinStaleWindow } from '../../src/engine/freshness.js';

test('isFresh: 0 never expires; otherwise fresh strictly before the expiry', () => {
  assert.equal(isFresh(0, Number.MAX_SAFE_INTEGER), true);
  assert.equal(isFresh(1000, 999), true);
  assert.equal(isFresh(1000, 1000), false, 'expired at the expiry itself');
  assert.equal(isFresh(1000, 1001), false);
});

test("expiryOf caps the source's expiry at the TTL from now; a TTL of 0 leaves it as the source said", () => {
  assert.equal(expiryOf(0, 0, 500), 0);
  assert.equal(expiryOf(900, 0, 500), 900);
  assert.equal(expiryOf(0, 100, 500), 600, 'no expiry from the source: the TTL');
  assert.equal(expiryOf(550, 100, 500), 550, 'the source says sooner');
  assert.equal(expiryOf(900, 100, 500), 600, 'the TTL says sooner');
});

test('withinStaleWindow: only past an expiry, only for windowMs, never with no window or no expiry', () => {
  assert.equal(withinStaleWindow(1000, 100, 1000), true);
  assert.equal(withinStaleWindow(1000, 100, 1099), true);
  assert.equal(withinStaleWindow(1000, 100, 1100), false);
  assert.equal(withinStaleWindow(1000, 0, 1000), false);
  assert.equal(withinStaleWindow(0, 100, 5), false);
});

test('Freshness binds the windows to its clock: revalidate, on error, and past both', () => {
  let now = 1000;
  const freshness = new Freshness({ ttlMs: 50, staleWhileRevalidateMs: 10, staleIfErrorMs: 30 }, () => now);
  assert.equal(freshness.expiryOf(0), 1050);
  assert.equal(freshness.isFresh(1001), true);
  now = 1005; // 5 ms past an expiry at 1000
  assert.deepEqual([freshness.isFresh(1000), freshness.mayServeWhileRevalidating(1000), freshness.mayServeOnError(1000), freshness.pastStale(1000)], [false, true, true, false]);
  now = 1020;
  assert.deepEqual([freshness.mayServeWhileRevalidating(1000), freshness.mayServeOnError(1000), freshness.pastStale(1000)], [false, true, false]);
  now = 1030;
  assert.deepEqual([freshness.mayServeWhileRevalidating(1000), freshness.mayServeOnError(1000), freshness.pastStale(1000)], [false, false, true]);
});

test('Freshness reads the clock only for values that expire, and refuses bad settings by name', () => {
  let reads = 0;
  const freshness = new Freshness({}, () => (reads++, 0));
  assert.equal(freshness.isFresh(0), true);
  assert.equal(freshness.expiryOf(0), 0);
  assert.equal(reads, 0);
  assert.throws(() => new Freshness({ staleIfErrorMs: -1 }, Date.now), /staleIfErrorMs must be a non-negative integer/);
  assert.throws(() => new Freshness({ ttlMs: 1.5 }, Date.now), /ttlMs/);
});
