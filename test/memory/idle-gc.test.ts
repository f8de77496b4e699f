import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ByteView } from '../../src/engine/byteview.js';
import { IdleGc } from '../../src/memory/idle-gc.js';
import { IdleGcPolicy } from '../../src/memory/idle-gc-policy.js';
import { ByteLru } from '../../src/engine/lru.js';
import { SlabArena } from '../../src/memory/slab.js';
import { fullGc } from '../support/gc.js';
import { sleep, waitFor } from '../../harness/wait.js';


/** An arena whose small LRU has evicted about 60 KiB of values (so about 60 emptied 1 KiB slabs). */
function churned(): { arena: SlabArena; lru: ByteLru; evicted: Uint8Array[] } {
  const arena = new SlabArena({ slabBytes: 1024, maxValueBytes: 64 });
  const lru = new ByteLru(4096, { arena });
  const evicted: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const view = ByteView.copyOf(new Uint8Array(60).fill(i & 255));
    lru.set(`k${String(i).padStart(3, '0')}`, view);
    // What a response still being written holds: the bytes, in the slab.
    evicted.push(ByteView.bytesForWrite(view));
  }
  return { arena, lru, evicted };
}

function collector(arena: SlabArena, collect: () => Promise<void>): IdleGc {
  return new IdleGc({ arena, collect, intervalMs: 20, policy: new IdleGcPolicy({ thresholdBytes: 8 * 1024 }), logger: pino({ level: 'silent' }) });
}

test('once eviction stops, one real GC frees the emptied slabs, and no more follow', async () => {
  const { arena, lru } = churned();
  const gc = fullGc();
  let calls = 0;
  const idle = collector(arena, async () => {
    calls++;
    gc();
  });
  assert.ok(arena.stats().emptySlabBytes >= 50 * 1024, `emptied ${arena.stats().emptySlabBytes} bytes`);
  idle.start();
  idle.start(); // idempotent: one timer
  try {
    await waitFor(() => arena.stats().emptySlabBytes === 0, 3000, 'the emptied slabs to be freed');
    assert.equal(calls, 1);
    await sleep(300);
    assert.equal(calls, 1, 'nothing left to free: no further collections');
    assert.equal(idle.collections, 1);
    assert.equal(lru.get('k999')?.toBytes()[0], 999 & 255, 'cached values are untouched');
  } finally {
    idle.close();
  }
});

test('slabs still pinned by readers cost one collection, not one per tick', async () => {
  const { arena, evicted } = churned();
  let calls = 0;
  const gc = fullGc();
  const idle = collector(arena, async () => {
    calls++;
    gc();
  });
  idle.start();
  try {
    await waitFor(() => calls === 1, 3000, 'a first collection');
    await sleep(300);
    assert.equal(calls, 1);
    assert.ok(arena.stats().emptySlabBytes >= 50 * 1024, 'the pinned slabs are still there');
    assert.equal(evicted[0]![0], 0, 'and still readable');
  } finally {
    idle.close();
  }
});

test('close stops the timer', async () => {
  const { arena } = churned();
  let calls = 0;
  const idle = collector(arena, async () => {
    calls++;
  });
  idle.start();
  idle.close();
  idle.close();
  await sleep(150);
  assert.equal(calls, 0, 'emptied slabs waited, but no tick came after close');
});

test('without node --expose-gc and no collect function the collector is unavailable and start does nothing', () => {
  const idle = new IdleGc({ arena: new SlabArena(), logger: pino({ level: 'silent' }) });
  assert.equal(typeof globalThis.gc, 'undefined', 'node --test runs this file without --expose-gc');
  assert.equal(idle.available, false);
  idle.start();
  idle.close();
});
