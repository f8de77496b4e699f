import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView, TEXT_WRITE_MAX_BYTES } from '../../src/engine/byteview.js';
import { CompactStore } from '../../src/engine/store/compact-store.js';

test('copyOf takes a copy: changing the source later does not change the view', () => {
  const source = new Uint8Array([1, 2, 3]);
  const view = ByteView.copyOf(source);
  source[0] = 99;
  assert.deepEqual([...view.toBytes()], [1, 2, 3]);
});

test('toBytes hands out a copy: changing it does not change the view', () => {
  const view = ByteView.copyOf('630');
  const bytes = view.toBytes();
  bytes[0] = 0;
  assert.equal(view.toString(), '630');
  assert.notEqual(view.toBytes(), view.toBytes());
});

test('length, string and equality', () => {
  const view = ByteView.copyOf('héllo');
  assert.equal(view.byteLength, 6);
  assert.equal(view.toString(), 'héllo');
  assert.equal(view.toString('hex'), Buffer.from('héllo').toString('hex'));
  assert.ok(view.equals('héllo'));
  assert.ok(view.equals(ByteView.copyOf('héllo')));
  assert.ok(!view.equals('hello'));
});

test('bytesForWrite gives the bytes; equals compares content wherever the bytes live', () => {
  const view = ByteView.copyOf('abc');
  assert.deepEqual([...ByteView.bytesForWrite(view)], [97, 98, 99]);
  assert.ok(ByteView.copyOf(new Uint8Array(0)).equals(new Uint8Array(0)));
  assert.equal(ByteView.copyOf('').toString(), '');
});

test('adopt wraps without a copy; a cache that keeps an adopted value copies it', () => {
  const body = Buffer.from('xx630yy');
  const view = ByteView.adopt(body.subarray(2, 5));
  assert.equal(view.toString(), '630');
  const store = new CompactStore(1000);
  store.set('Tom', ByteView.bytesForWrite(view));
  body.fill(0); // the response buffer is reused or dropped: the cached value must not care
  assert.equal(store.get('Tom')!.toString(), '630');
});

test('inBuffer views a range of a buffer without copying; expiringAt keeps the bytes and changes the expiry', () => {
  const buffer = new TextEncoder().encode('..abc..').buffer as ArrayBuffer;
  const view = ByteView.inBuffer(buffer, 2, 3, 42);
  assert.equal(view.toString(), 'abc');
  assert.equal(view.expiresAt, 42);
  const later = ByteView.expiringAt(view, 99);
  assert.ok(later.equals(view));
  assert.equal(later.expiresAt, 99);
  assert.equal(view.expiresAt, 42);
});

test('textForWrite: a small value as latin1 text that encodes back to exactly its bytes; larger ones are written as bytes', () => {
  const every = ByteView.copyOf(new Uint8Array(256).map((_, i) => i));
  const text = ByteView.textForWrite(every)!;
  assert.equal(text.length, 256);
  assert.deepEqual(Buffer.from(text, 'latin1'), Buffer.from(every.toBytes()));

  const largest = ByteView.copyOf(new Uint8Array(TEXT_WRITE_MAX_BYTES).fill(0xe9));
  const larger = ByteView.copyOf(new Uint8Array(TEXT_WRITE_MAX_BYTES + 1).fill(0xe9));
  assert.equal(ByteView.textForWrite(largest)!.length, TEXT_WRITE_MAX_BYTES);
  assert.equal(ByteView.textForWrite(larger), undefined);
});
