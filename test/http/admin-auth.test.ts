import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminCheck } from '../../src/http/admin-auth.js';

test('without a token nothing may invalidate, and the answer says how to enable it', () => {
  const check = adminCheck(undefined);
  assert.match(check('Bearer anything-at-all')!, /disabled: set GEECACHE_ADMIN_TOKEN/);
  assert.match(check(undefined)!, /disabled/);
});

test('only the exact token as a bearer credential passes', () => {
  const check = adminCheck('0123456789abcdef0123');
  assert.equal(check('Bearer 0123456789abcdef0123'), undefined);
  assert.equal(check('bearer 0123456789abcdef0123'), undefined, 'the scheme is case-insensitive (RFC 9110)');
  for (const header of [undefined, '', 'Bearer', 'Bearer 0123456789abcdef012', 'Bearer 0123456789abcdef01234', 'Basic 0123456789abcdef0123', '0123456789abcdef0123']) {
    assert.match(check(header)!, /wrong or missing admin token/, String(header));
  }
});
