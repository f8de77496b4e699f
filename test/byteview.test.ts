import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView } from '../src/byteview.js';

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
