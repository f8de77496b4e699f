import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHandoff, encodeHandoff } from '../../src/protocol/handoff.js';

test('handed values survive encoding: keys of any UTF-8, empty values, expiries to the ms', () => {
  const entries = [
    { key: 'a', value: Buffer.from('one'), expiresAt: Date.UTC(2026, 11, 2, 0, 0, 0, 123) },
    { key: 'ключ 🔑', value: Buffer.alloc(0), expiresAt: 0 },
    { key: 'x/y?z', value: Buffer.alloc(70_000, 7), expiresAt: 0 },
  ];
  const decoded = decodeHandoff(encodeHandoff(entries));
  assert.ok(decoded.ok);
  assert.deepEqual(
    decoded.entries.map((e) => [e.key, Buffer.from(e.value), e.expiresAt]),
    entries.map((e) => [e.key, e.value, e.expiresAt]),
  );
});

test('a cut or malformed handoff body is refused with a reason', () => {
  const body = encodeHandoff([{ key: 'k', value: Buffer.from('value'), expiresAt: 0 }]);
  for (let cut = 1; cut < body.byteLength; cut++) assert.equal(decodeHandoff(body.subarray(0, cut)).ok, false, `cut at ${cut}`);
  const notUtf8 = Buffer.from(body);
  notUtf8[4] = 0xff;
  assert.deepEqual(decodeHandoff(notUtf8), { ok: false, message: 'key 0 is not UTF-8' });
  assert.deepEqual(decodeHandoff(Buffer.alloc(0)), { ok: true, entries: [] });
});
