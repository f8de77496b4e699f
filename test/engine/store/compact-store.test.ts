import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactStore, ENTRY_OVERHEAD_BYTES } from '../../../src/engine/store/compact-store.js';
import { SegmentLedger } from '../../../src/memory/segment-ledger.js';

const O = ENTRY_OVERHEAD_BYTES;
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

test('bytes count UTF-8 key + value + the overhead constant per entry', () => {
  const store = new CompactStore(10_000);
  store.set('abc', bytes(10));
  store.set('日本', bytes(5));
  assert.equal(store.bytes, 3 + 10 + O + 6 + 5 + O);
  assert.equal(store.items, 2);
  assert.ok(O <= 64);
});

test('get returns the bytes with their expiry and refreshes recency; peek does neither count nor refresh', () => {
  const store = new CompactStore(3 * (1 + 10 + O));
  store.set('a', bytes(10, 1), 1234);
  store.set('b', bytes(10, 2));
  store.set('c', bytes(10, 3));
  const a = store.get('a');
  assert.ok(a?.equals(bytes(10, 1)));
  assert.equal(a?.expiresAt, 1234);
  assert.ok(store.peek('b'));
  store.set('d', bytes(10, 4)); // b is the oldest: peek did not refresh it
  assert.deepEqual(store.keys(), ['d', 'a', 'c']);
  assert.deepEqual(store.stats(), { items: 3, bytes: 3 * (11 + O), evictions: 1, unexpiredEvictions: 0, gets: 1, hits: 1 });
  assert.equal(store.get('b'), undefined);
});

test('an entry over the budget is refused and the old value stays; a replacement is not an eviction', () => {
  const store = new CompactStore(100 + O);
  assert.equal(store.set('k', bytes(10)), true);
  assert.equal(store.set('k', bytes(100)), false);
  assert.equal(store.peek('k')?.byteLength, 10);
  assert.equal(store.set('k', bytes(20, 9)), true);
  assert.ok(store.peek('k')?.equals(bytes(20, 9)));
  assert.equal(store.items, 1);
  assert.equal(store.stats().evictions, 0);
});

test('removeOldest and evictions count values evicted before their expiry', () => {
  let now = 1000;
  const store = new CompactStore(10_000, { clock: () => now });
  store.set('never', bytes(1));
  store.set('later', bytes(1), 5000);
  store.set('past', bytes(1), 500);
  now = 2000;
  assert.equal(store.removeOldest(), true);
  assert.equal(store.removeOldest(), true);
  assert.equal(store.removeOldest(), true);
  assert.equal(store.removeOldest(), false);
  assert.deepEqual(store.stats(), { items: 0, bytes: 0, evictions: 3, unexpiredEvictions: 1, gets: 0, hits: 0 });
});

test('entries iterate MRU first and skip entries removed while iterating', () => {
  const store = new CompactStore(10_000);
  for (const k of ['a', 'b', 'c', 'd']) store.set(k, Buffer.from(k.repeat(3)));
  const seen: string[] = [];
  for (const [key, view] of store.entries()) {
    seen.push(`${key}=${view.toString()}`);
    if (key === 'd') {
      store.delete('c');
      store.set('e', bytes(1)); // may reuse c's id: must not be yielded in c's place
    }
  }
  assert.deepEqual(seen, ['d=ddd', 'b=bbb', 'a=aaa']);
});

test('a view handed out stays valid after its entry is evicted, the segments compacted and dropped', () => {
  const store = new CompactStore(200 * (8 + 100 + O), { segmentBytes: 4096 });
  const early = store.get('none') ?? (store.set('first', bytes(100, 42)), store.get('first')!);
  const big = (store.set('big', bytes(5000, 43)), store.get('big')!); // own buffer
  for (let i = 0; i < 5000; i++) {
    store.set(`key-${i % 400}`, bytes(100, i & 0xff));
    if (i % 3 === 0) store.delete(`key-${(i * 7) % 400}`);
  }
  assert.equal(store.peek('first'), undefined);
  assert.ok(early.equals(bytes(100, 42)));
  assert.ok(big.equals(bytes(5000, 43)));
  const { segmentBytes, liveBytes } = store.footprint();
  assert.ok(segmentBytes <= liveBytes * (9 / 8) + 2 * 4096, `held ${segmentBytes} for live ${liveBytes}`);
});

test('clear empties everything and the store works after', () => {
  const store = new CompactStore(10_000);
  store.set('a', bytes(10));
  store.clear();
  assert.equal(store.items, 0);
  assert.equal(store.bytes, 0);
  assert.equal(store.footprint().segmentBytes, 0);
  assert.equal(store.get('a'), undefined);
  store.set('a', bytes(3, 5));
  assert.ok(store.get('a')?.equals(bytes(3, 5)));
});

test('the columns and index slots a growing store replaces are told to the ledger as garbage', () => {
  const ledger = new SegmentLedger();
  const store = new CompactStore(64 * 1024 * 1024, { ledger });
  const before = store.footprint();
  for (let i = 0; i < 10_000; i++) store.set(`k${i}`, new Uint8Array(8));
  const after = store.footprint();
  const { outgrownBytes } = ledger.stats();
  // Growth by half each time: what was replaced adds up to about twice the final size, and at least the first size.
  assert.ok(outgrownBytes >= before.tableBytes, `outgrown ${outgrownBytes} bytes`);
  assert.ok(outgrownBytes < 3 * (after.tableBytes), `outgrown ${outgrownBytes} against ${after.tableBytes} held`);
  const settled = ledger.stats().outgrownBytes;
  for (let i = 0; i < 100; i++) store.get(`k${i}`);
  assert.equal(ledger.stats().outgrownBytes, settled, 'hits replace nothing');
});

test('maxBytes must be a positive integer', () => {
  assert.throws(() => new CompactStore(0), /maxBytes/);
  assert.throws(() => new CompactStore(1.5), /maxBytes/);
  assert.throws(() => new CompactStore(100, { segmentBytes: 10 }), /segmentBytes/);
});
