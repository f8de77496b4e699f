// tick-maps.ts keeps one of process.nextTick's queue entries alive for the life of the process, so that V8
// keeps the hidden classes every entry is built with.
import { executionAsyncResource } from 'node:async_hooks';

let pinned: Promise<object> | undefined;

/**
 * nextTick builds each queue entry as an object literal with four properties, and V8 links the hidden
 * classes ("maps") that literal passes through only weakly. A full GC that runs while no entry is queued
 * (idle-gc.ts's, run from a timer, or any other at the wrong moment) frees them, and the next entry builds
 * new ones. After three such GCs the inline caches in nextTick have seen too many maps and turn megamorphic
 * for good: from then on every nextTick defines its properties through V8's runtime, 5-8x slower. An /api
 * hit calls nextTick about ten times (stream and socket bookkeeping), so a pod that had been through its
 * idle collections served hot-key hits at about 0.75x the rate of a fresh one. One entry held forever keeps
 * its maps alive, and inside a nextTick callback executionAsyncResource() is that entry.
 * Resolves to the entry held; calling again returns the same one.
 */
export function pinTickObjectMaps(): Promise<object> {
  pinned ??= new Promise((resolve) => process.nextTick(holdCurrentEntry, resolve));
  return pinned;
}

function holdCurrentEntry(resolve: (entry: object) => void): void {
  resolve(executionAsyncResource());
}
