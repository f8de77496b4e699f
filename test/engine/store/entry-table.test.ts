import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryTable, NONE } from '../../../src/engine/store/entry-table.js';

function order(table: EntryTable): number[] {
  const ids: number[] = [];
  for (let id = table.head; id !== NONE; id = table.next[id]!) ids.push(id);
  const back: number[] = [];
  for (let id = table.tail; id !== NONE; id = table.prev[id]!) back.push(id);
  assert.deepEqual(back.reverse(), ids, 'prev links mirror next links');
  return ids;
}

test('new ids are most recently used; moveToFront and remove keep the list exact', () => {
  const table = new EntryTable(4);
  const [a, b, c] = [table.add(), table.add(), table.add()];
  assert.deepEqual(order(table), [c, b, a]);
  table.moveToFront(a);
  assert.deepEqual(order(table), [a, c, b]);
  table.remove(c);
  assert.deepEqual(order(table), [a, b]);
  assert.equal(table.isLive(c), false);
  assert.equal(table.add(), c, 'a freed id is handed out again');
  assert.equal(table.count, 3);
});

test('grows by half, keeping the columns', () => {
  const table = new EntryTable(4);
  for (let i = 0; i < 4; i++) table.expiresAt[table.add()] = i + 0.5;
  table.add();
  assert.equal(table.capacity, 6);
  assert.deepEqual([...table.expiresAt.subarray(0, 4)], [0.5, 1.5, 2.5, 3.5]);
  assert.equal(table.byteSize, 6 * EntryTable.BYTES_PER_ROW);
  assert.equal(EntryTable.BYTES_PER_ROW, 36);
});

test('clear empties the list and starts ids over', () => {
  const table = new EntryTable(4);
  table.add();
  table.add();
  table.clear();
  assert.deepEqual(order(table), []);
  assert.equal(table.add(), 0);
});
