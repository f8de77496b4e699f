import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executionAsyncResource } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { pinTickObjectMaps } from '../../src/memory/tick-maps.js';
import { fullGc } from '../support/gc.js';
import { sleep } from '../../harness/wait.js';

/** V8's %HaveSameMap: whether two objects share a hidden class. Parsed after turning natives syntax on. */
function haveSameMap(): (a: object, b: object) => boolean {
  setFlagsFromString('--allow-natives-syntax');
  return new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
}

/** The entry process.nextTick queued for a callback, as the callback sees it. */
function nextTickEntry(): Promise<object> {
  return new Promise((resolve) => process.nextTick(() => resolve(executionAsyncResource())));
}

test('the pinned object is a nextTick entry, and the same one on every call', async () => {
  const pinned = await pinTickObjectMaps();
  assert.equal(await pinTickObjectMaps(), pinned);
  assert.deepEqual(Object.keys(pinned), ['callback', 'args']);
  const symbols = Object.getOwnPropertySymbols(pinned).map((symbol) => symbol.description);
  assert.ok(symbols.includes('async_id_symbol') && symbols.includes('trigger_async_id_symbol'), symbols.join(', '));
});

test('entries queued after full GCs with an empty queue still share the pinned entry hidden class', async () => {
  const sameMap = haveSameMap();
  const pinned = await pinTickObjectMaps();
  assert.ok(sameMap(pinned, await nextTickEntry()));
  const gc = fullGc();
  for (let i = 0; i < 5; i++) {
    // From a timer: no nextTick entry is queued while this GC runs, which is when V8 frees unheld maps.
    await sleep(2);
    gc();
    await nextTickEntry();
  }
  assert.ok(sameMap(pinned, await nextTickEntry()), 'a new entry was built with new maps: the old ones were freed');
});
