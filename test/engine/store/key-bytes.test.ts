import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyBytes, hashBytes } from '../../../src/engine/store/key-bytes.js';

test('encodes keys of every UTF-8 length class to the bytes Buffer gives, and hashes those bytes', () => {
  const encoder = new KeyBytes();
  for (const key of ['', 'a', 'user:42', 'é', 'naïve', '日本語', '🔑', 'a🔑é日', 'x'.repeat(2048), '日'.repeat(700), 'lone \ud800']) {
    encoder.encode(key);
    const expected = Buffer.from(key, 'utf8');
    assert.equal(encoder.length, expected.length, key);
    assert.deepEqual(Buffer.from(encoder.bytes.subarray(0, encoder.length)), expected, key);
    assert.equal(encoder.hash, hashBytes(expected, 0, expected.length), key);
  }
});

test('the ASCII path and the wide path hash alike, and the buffer is reused', () => {
  const encoder = new KeyBytes();
  encoder.encode('abc');
  const ascii = encoder.hash;
  const buffer = encoder.bytes;
  encoder.encode('é');
  encoder.encode('abc');
  assert.equal(encoder.hash, ascii);
  assert.equal(encoder.bytes, buffer);
});

test('keys that differ in their last character spread over the low bits', () => {
  const encoder = new KeyBytes();
  const low = new Set<number>();
  for (let i = 0; i < 256; i++) {
    encoder.encode(`key-${i}`);
    low.add(encoder.hash & 255);
  }
  assert.ok(low.size > 140, `only ${low.size} of 256 low-byte values`);
});
