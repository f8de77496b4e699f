// node-flags.ts lists the V8 flags and the environment every geecache pod runs with, for each place that starts one (the Dockerfile, local-cluster, bench/).

/**
 * --no-memory-reducer and --expose-gc: an idle pod keeps the heap it has grown, and idle-gc.ts runs the
 * full GC that frees emptied segments instead. (The reducer's GCs once slowed hits by up to a third for
 * good; that was nextTick's hidden classes, which tick-maps.ts now keeps, and with it the reducer cost
 * hits nothing measurable. The flag stays until dropping it is measured for memory.)
 * --min- and --max-semi-space-size=16: a young generation that neither shrinks after idling (p99 after
 * an idle spell) nor grows past Node 20's size under Node 24 (the memory goal).
 * --no-allocation-site-pretenuring: V8 otherwise decides, while a multi-get fill keeps request objects
 * alive across scavenges, to allocate those objects in the old space from then on, for every request:
 * hot-key hits on a pod filled so then ran at 0.79x of an empty pod's, p99 3.3x. The store keeps no object
 * per entry, so nothing of ours gains from pretenuring. The measurements behind each: docs/performance.md,
 * "Why pods run with these V8 flags".
 */
export const NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', '--no-allocation-site-pretenuring'];

/**
 * MALLOC_MMAP_THRESHOLD_: glibc maps every block of 128 KiB or more on its own, so a freed large
 * value or segment returns to the kernel at once instead of staying in glibc's heap (and in RSS);
 * setting it also stops glibc raising the threshold. MALLOC_ARENA_MAX=2: glibc otherwise gives each
 * thread that allocates (V8's platform workers, libuv's pool) an arena of its own, each keeping the
 * memory freed into it (about 20 MiB of RSS outside V8's heap and external memory after a flood of
 * misses). Other C libraries ignore both. Measured: docs/performance.md.
 */
export const POD_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' };
