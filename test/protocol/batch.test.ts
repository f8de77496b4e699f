import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchPath, decodeKeys, encodeFrame, encodeKeys, encodeValueFrame, FrameReader, parseBatchPath, splitValueFrame } from '../../src/protocol/batch.js';

test('keys survive encoding, including empty, multi-byte and separator characters', () => {
  const keys = ['a', '', 'héllo wörld', 'x/y?z=1&\n', '🔑'.repeat(100)];
  assert.deepEqual(decodeKeys(encodeKeys(keys)), { ok: true, keys });
  assert.deepEqual(decodeKeys(Buffer.alloc(0)), { ok: true, keys: [] });
});

test('malformed or oversized key lists are refused with a reason', () => {
  const body = encodeKeys(['abc', 'def']);
  assert.deepEqual(decodeKeys(body.subarray(0, body.byteLength - 1)), { ok: false, status: 400, message: 'truncated key' });
  assert.deepEqual(decodeKeys(body.subarray(0, 9)), { ok: false, status: 400, message: 'truncated key length' });
  assert.deepEqual(decodeKeys(encodeKeys(['a', 'b', 'c']), 2), { ok: false, status: 413, message: 'more than 2 keys in one batch' });
});

test('a key that is not UTF-8 is refused, as percent-decoding a GET refuses it, not replaced with U+FFFD', () => {
  const bad = Buffer.concat([encodeKeys(['ok']), Buffer.from([2, 0, 0, 0, 0xc3, 0x28])]);
  assert.deepEqual(decodeKeys(bad), { ok: false, status: 400, message: 'key 1 is not UTF-8' });
});

test('frames are read back whole wherever the body is cut into chunks', () => {
  const sent = [
    { index: 2, status: 200, bytes: Buffer.from('value two') },
    { index: 0, status: 404, bytes: Buffer.from('no such key') },
    { index: 1, status: 200, bytes: Buffer.alloc(0) },
    { index: 3, status: 200, bytes: Buffer.alloc(3000, 7) },
  ];
  const body = Buffer.concat(sent.map((f) => encodeFrame(f.index, f.status, f.bytes)));
  for (const size of [1, 2, 5, 11, 12, 13, 100, body.byteLength]) {
    const reader = new FrameReader();
    const got = [];
    for (let at = 0; at < body.byteLength; at += size) got.push(...reader.push(body.subarray(at, at + size)));
    assert.deepEqual(
      got.map((f) => ({ index: f.index, status: f.status, bytes: Buffer.from(f.bytes) })),
      sent,
      `chunks of ${size} bytes`,
    );
    assert.equal(reader.pendingBytes, 0);
  }
  const cut = new FrameReader();
  assert.deepEqual(cut.push(body.subarray(0, 15)), []);
  assert.equal(cut.pendingBytes, 15, 'an unfinished frame is held, not dropped');
});

test('batch paths name the group; anything else is not a batch path', () => {
  assert.equal(batchPath('/_geecache/', 'a b/c'), '/_geecache/a%20b%2Fc/');
  assert.equal(parseBatchPath('/_geecache/', batchPath('/_geecache/', 'a b/c')), 'a b/c');
  for (const url of ['/_geecache/', '/_geecache/g/k', '/_geecache/g', '/other/g/', '/_geecache/%zz/']) {
    assert.equal(parseBatchPath('/_geecache/', url), undefined, url);
  }
});

test('a value frame with its metadata reads back as the value, the expiry and the rate; a frame too short for them is not', () => {
  const expiresAt = Date.UTC(2026, 11, 2, 0, 0, 0, 7);
  const [frame] = new FrameReader().push(encodeValueFrame(3, Buffer.from('value'), { expiresAt, minuteQps: 12.5 }));
  assert.equal(frame!.index, 3);
  assert.equal(frame!.status, 200);
  assert.deepEqual({ ...splitValueFrame(frame!.bytes)!, value: undefined }, { value: undefined, expiresAt, minuteQps: 12.5 });
  assert.equal(splitValueFrame(frame!.bytes)!.value.toString(), 'value');
  const empty = splitValueFrame(encodeValueFrame(0, new Uint8Array(0), { expiresAt: 0, minuteQps: 0 }).subarray(12))!;
  assert.deepEqual([empty.expiresAt, empty.minuteQps, empty.value.byteLength], [0, 0, 0]);
  assert.equal(splitValueFrame(Buffer.from('too short')), undefined);
});

test('FrameReader: a large frame in many small chunks, between small frames, comes out whole and in order', () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
  const body = Buffer.concat([encodeFrame(0, 200, Buffer.from('a')), encodeFrame(1, 200, big), encodeFrame(2, 404, Buffer.from('no'))]);
  const reader = new FrameReader();
  const frames = [];
  for (let at = 0; at < body.byteLength; at += 4093) frames.push(...reader.push(body.subarray(at, at + 4093)));
  assert.deepEqual(
    frames.map((frame) => [frame.index, frame.status, frame.bytes.byteLength]),
    [
      [0, 200, 1],
      [1, 200, big.byteLength],
      [2, 404, 2],
    ],
  );
  assert.ok(frames[1]!.bytes.equals(big));
  assert.equal(reader.pendingBytes, 0);
});
