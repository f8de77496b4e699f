import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGetResponse, encodeGetResponse, parsePeerPath, peerPath, basePathProblem } from '../../src/protocol/get.js';

test('GetResponse bytes are protobuf field 1 (bytes) and field 2 (double), as groupcache sends', () => {
  const bytes = encodeGetResponse(Buffer.from('630'), 0, 1.5);
  // 0x0a = field 1, wire type 2; length 3; "630"; 0x11 = field 2, wire type 1; 1.5 as little-endian double.
  const double = Buffer.alloc(8);
  double.writeDoubleLE(1.5);
  assert.deepEqual(Buffer.from(bytes), Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('630'), Buffer.from([0x11]), double]));
  const decoded = decodeGetResponse(bytes);
  assert.equal(Buffer.from(decoded.value).toString(), '630');
  assert.equal(decoded.minuteQps, 1.5);
});

test('an empty value is an answer; a GetResponse without field 1 (an empty body among them) is not', () => {
  const empty = decodeGetResponse(encodeGetResponse(new Uint8Array(0)));
  assert.equal(empty.value.byteLength, 0);
  assert.equal(empty.minuteQps, 0);
  assert.throws(() => decodeGetResponse(new Uint8Array(0)), /no value/);
  // Only minute_qps (field 2): valid protobuf, still no value.
  assert.throws(() => decodeGetResponse(Uint8Array.from([0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f])), /no value/);
});

test("an expiry travels as field 3, int64 Unix nanoseconds (groupcache-go v3's expire), and comes back to the ms", () => {
  const expiresAt = Date.UTC(2026, 11, 1, 23, 59, 59, 123);
  const bytes = Buffer.from(encodeGetResponse(Buffer.from('v'), expiresAt));
  // 0x18 = field 3, wire type 0 (varint): the nanoseconds follow as a varint.
  const at = bytes.indexOf(0x18, 3);
  assert.ok(at > 0, bytes.toString('hex'));
  let nanos = 0n;
  for (let i = at + 1, shift = 0n; ; i++, shift += 7n) {
    nanos |= BigInt(bytes[i]! & 0x7f) << shift;
    if ((bytes[i]! & 0x80) === 0) break;
  }
  assert.equal(nanos, BigInt(expiresAt) * 1_000_000n);
  assert.equal(decodeGetResponse(bytes).expiresAt, expiresAt);
  assert.equal(decodeGetResponse(encodeGetResponse(Buffer.from('v'))).expiresAt, 0, 'no field 3: never');
  assert.ok(!Buffer.from(encodeGetResponse(Buffer.from('v'))).includes(0x18), 'field 3 is left out when the value never expires');
});

test('malformed protobuf throws', () => {
  assert.throws(() => decodeGetResponse(Uint8Array.from([0x0a, 50, 1])));
});

test("a '+' in a peer path is a space, as Go groupcache's client (url.QueryEscape) means it", () => {
  assert.deepEqual(parsePeerPath('/_groupcache/', '/_groupcache/my+group/x+y'), { ok: true, group: 'my group', key: 'x y' });
  assert.deepEqual(parsePeerPath('/_groupcache/', '/_groupcache/g/a%2Bb+c'), { ok: true, group: 'g', key: 'a+b c' });
});

test('peer paths percent-encode group and key and parse back', () => {
  const keys = ['Tom', 'a b', 'a/b/c', 'ключ', '100%', 'q?x=1&y', '#frag', '+plus'];
  for (const key of keys) {
    const path = peerPath('/_geecache/', 'scores', key);
    assert.ok(!path.slice('/_geecache/scores/'.length).includes('/'), path);
    assert.deepEqual(parsePeerPath('/_geecache/', path), { ok: true, group: 'scores', key });
  }
});

test('an unencoded slash in the key belongs to the key', () => {
  assert.deepEqual(parsePeerPath('/_geecache/', '/_geecache/g/a/b?x=1'), { ok: true, group: 'g', key: 'a/b' });
});

test('bad peer paths are refused with a reason', () => {
  for (const path of ['/other/g/k', '/_geecache/', '/_geecache/g', '/_geecache/g/', '/_geecache//k', '/_geecache/g/%E0%A4%A']) {
    const parsed = parsePeerPath('/_geecache/', path);
    assert.equal(parsed.ok, false, path);
  }
});

test('base paths must start and end with a slash', () => {
  assert.equal(basePathProblem('/_groupcache/'), undefined);
  assert.equal(basePathProblem('/a/b/'), undefined);
  assert.match(basePathProblem('_geecache/')!, /start and end/);
  assert.match(basePathProblem('/_geecache')!, /start and end/);
  assert.match(basePathProblem('/')!, /just/);
});
