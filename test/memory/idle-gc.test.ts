import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ByteView } from '../../src/engine/byteview.js';
import { IdleGc, type CollectGarbage } from '../../src/memory/idle-gc.js';
import { IdleGcPolicy } from '../../src/memory/idle-gc-policy.js';
import { CompactStore } from '../../src/engine/store/compact-store.js';
import { SegmentLedger } from '../../src/memory/segment-ledger.js';
import { fullGc } from '../support/gc.js';
import { sleep, waitFor } from '../../harness/wait.js';

/** A ledger whose small store has evicted about 60 KiB of records (so about 60 dropped 1 KiB segments). */
function churned(): { ledger: SegmentLedger; store: CompactStore; evicted: Uint8Array[] } {
  const ledger = new SegmentLedger();
  const store = new CompactStore(4096, { segmentBytes: 1024, ledger });
  const evicted: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const key = `k${String(i).padStart(3, '0')}`;
    store.set(key, new Uint8Array(60).fill(i & 255));
    // What a response still being written holds: the bytes, in the segment.
    evicted.push(ByteView.bytesForWrite(store.peek(key)!));
  }
  return { ledger, store, evicted };
}

function collector(ledger: SegmentLedger, collect: CollectGarbage): IdleGc {
  return new IdleGc({ ledger, collect, intervalMs: 20, policy: new IdleGcPolicy({ thresholdBytes: 8 * 1024 }), logger: pino({ level: 'silent' }) });
}

test('once eviction stops, one real GC, of the quiet kind, frees the dropped segments, and no more follow', async () => {
  const { ledger, store } = churned();
  const gc = fullGc();
  let calls = 0;
  const kinds: string[] = [];
  const idle = collector(ledger, async (kind) => {
    calls++;
    kinds.push(kind);
    gc();
  });
  assert.ok(ledger.stats().droppedBytes >= 50 * 1024, `dropped ${ledger.stats().droppedBytes} bytes`);
  idle.start();
  idle.start(); // idempotent: one timer
  try {
    await waitFor(() => ledger.stats().droppedBytes === 0, 3000, 'the dropped segments to be freed');
    assert.equal(calls, 1);
    await sleep(300);
    assert.equal(calls, 1, 'nothing left to free: no further collections');
    assert.equal(idle.collections, 1);
    assert.deepEqual(kinds, ['quiet'], 'caching had stopped: the collection that gives pages back');
    assert.equal(store.get('k999')?.toBytes()[0], 999 & 255, 'cached values are untouched');
  } finally {
    idle.close();
  }
});

test('segments still pinned by readers cost one collection, not one per tick', async () => {
  const { ledger, evicted } = churned();
  let calls = 0;
  const gc = fullGc();
  const idle = collector(ledger, async () => {
    calls++;
    gc();
  });
  idle.start();
  try {
    await waitFor(() => calls === 1, 3000, 'a first collection');
    await sleep(300);
    assert.equal(calls, 1);
    assert.ok(ledger.stats().droppedBytes >= 50 * 1024, 'the pinned segments are still there');
    assert.equal(evicted[0]![0], 0, 'and still readable');
  } finally {
    idle.close();
  }
});

test('close stops the timer', async () => {
  const { ledger } = churned();
  let calls = 0;
  const idle = collector(ledger, async () => {
    calls++;
  });
  idle.start();
  idle.close();
  idle.close();
  await sleep(150);
  assert.equal(calls, 0, 'dropped segments waited, but no tick came after close');
});

test('without node --expose-gc and no collect function the collector is unavailable and start does nothing', () => {
  const idle = new IdleGc({ ledger: new SegmentLedger(), logger: pino({ level: 'silent' }) });
  assert.equal(typeof globalThis.gc, 'undefined', 'node --test runs this file without --expose-gc');
  assert.equal(idle.available, false);
  idle.start();
  idle.close();
});
