import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOT_CACHEABLE, originExpiry } from '../../src/sources/origin-freshness.js';

const now = Date.UTC(2026, 11, 1, 12, 0, 0);
const date = new Date(now).toUTCString();

test('max-age and s-maxage give the lifetime; a shared cache takes s-maxage over max-age', () => {
  assert.equal(originExpiry({ 'cache-control': 'max-age=60' }, now), now + 60_000);
  assert.equal(originExpiry({ 'cache-control': 'public, max-age=60, s-maxage=5' }, now), now + 5_000);
  assert.equal(originExpiry({ 'cache-control': 'MAX-AGE=60' }, now), now + 60_000, 'directive names are case-insensitive');
});

test("Age is what the answer already spent in caches before ours: it shortens the lifetime", () => {
  assert.equal(originExpiry({ 'cache-control': 'max-age=60', age: '50' }, now), now + 10_000);
  assert.equal(originExpiry({ 'cache-control': 'max-age=60', age: '90' }, now), NOT_CACHEABLE, 'already stale');
});

test('Expires counts from the origin\'s Date; max-age wins over Expires; an Expires in the past or invalid is stale', () => {
  assert.equal(originExpiry({ date, expires: new Date(now + 30_000).toUTCString() }, now), now + 30_000);
  assert.equal(originExpiry({ date, expires: new Date(now + 30_000).toUTCString(), 'cache-control': 'max-age=5' }, now), now + 5_000);
  assert.equal(originExpiry({ date, expires: new Date(now - 1000).toUTCString() }, now), NOT_CACHEABLE);
  assert.equal(originExpiry({ date, expires: '0' }, now), NOT_CACHEABLE);
});

test('no-store, private, no-cache and max-age=0 are not cached', () => {
  for (const cacheControl of ['no-store', 'private, max-age=600', 'private', 'no-cache', 'max-age=0', 'no-store, max-age=60']) {
    assert.equal(originExpiry({ 'cache-control': cacheControl }, now), NOT_CACHEABLE, cacheControl);
  }
});

test('an answer that states no lifetime has no expiry of its own (the group TTL decides); Last-Modified is no lifetime', () => {
  assert.equal(originExpiry({}, now), 0);
  assert.equal(originExpiry({ 'cache-control': 'public' }, now), 0);
  assert.equal(originExpiry({ date, 'last-modified': new Date(now - 86_400_000).toUTCString() }, now), 0);
});
