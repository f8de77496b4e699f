// node-flags.ts lists the V8 flags and the environment every geecache pod runs with, for each place that starts one (the Dockerfile, local-cluster, bench/).

/**
 * --no-memory-reducer and --expose-gc: an idle pod keeps the heap it has grown (V8's memory reducer
 * slowed hits by up to a third after an idle spell), and idle-gc.ts runs the one full GC that frees
 * emptied slabs instead. --min- and --max-semi-space-size=16: a young generation that neither shrinks
 * after idling (p99 after an idle spell) nor grows past Node 20's size under Node 24 (the memory
 * goal). The measurements behind each: docs/performance.md, "Why pods run with these V8 flags".
 */
export const NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];

/**
 * MALLOC_MMAP_THRESHOLD_: glibc maps every block of 128 KiB or more on its own, so a freed 256 KiB
 * value slab returns to the kernel at once instead of staying in glibc's heap (and in RSS);
 * setting it also stops glibc raising the threshold. Other C libraries ignore it. Measured: docs/performance.md.
 */
export const POD_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
