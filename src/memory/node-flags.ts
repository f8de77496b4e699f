// node-flags.ts lists the V8 flags and the environment every geecache pod runs with, for each place that starts one (the Dockerfile, local-cluster, bench/).

/**
 * --no-memory-reducer: V8's memory reducer runs full GCs that shrink the heap of a process
 * that has gone idle. A pod that sat idle for 20 s after start-up and only then got load
 * served hot-key hits 19–36% slower for as long as it ran (bench/experiments/idle-probe.ts: 0.81x and
 * 0.64x of a pod loaded at once; with this flag 1.18x and 1.13x). A cache pod's memory is
 * mostly its byte budget, so keeping the heap it has grown costs little beside that.
 */
/**
 * --expose-gc: lets idle-gc.ts ask for the one full GC that frees emptied value slabs
 * once eviction stops, which the memory reducer would otherwise have done (about 50 MiB
 * of RSS on a full 256 MiB cache, bench/memory.ts).
 */
/**
 * --min-semi-space-size=16: at the first scavenge after an idle spell, V8 shrinks the young
 * generation (its allocation rate since the last GC looks low) and grows it back over the next
 * seconds of load. In bench/experiments/idle-after-load.ts, after 35 s idle, a pod on V8's own floor had a
 * 16 MiB young generation and a p99 of 3.43 ms (1.65x the baseline) in its first 5 s of load; with
 * this flag, 32 MiB and 1.69 ms (1.40x). A full `npm run bench` idles every pod between its rounds.
 * 16 MiB is Node 20's largest semi-space, the size a loaded pod grows to anyway; V8 caps the floor
 * at its maximum. The cost: about 20 MiB more RSS in an idle pod (79 -> 100 MiB), and 1-2% of
 * throughput (the bench's baseline server run with this flag served 0.98x and 0.99x of itself).
 * Pinning both bounds at 8 MiB instead served hits at 0.70x of the baseline.
 */
/**
 * --max-semi-space-size=16: Node 20's own ceiling, set for Node 24 (the image's), whose V8 grows
 * the young generation to 32 MiB semi-spaces under load and the heap with it. With 256 MiB of
 * 1 KB values (bench/memory.ts under Node 24) the pod's RSS was 551 and 553 MiB without it (heap
 * 217 and 226 MiB, 1.74x and 1.75x budget + idle: over the memory goal) and 459 and 455 MiB with
 * it (heap 123 and 117 MiB, 1.36x and 1.37x). On Node 20 it changes nothing.
 */
export const NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];

/**
 * MALLOC_MMAP_THRESHOLD_: glibc gives every allocation of 128 KiB or more its own mapping,
 * so a freed 256 KiB value slab (slab.ts) goes back to the kernel at once. By default glibc
 * raises that threshold the first time such a block is freed, after which slabs come from
 * its heap and freed ones stay in RSS: after the idle GC freed 51 MiB of slabs, RSS fell
 * 494 -> 487 MiB without this and 483 -> 436 MiB with it (bench/memory.ts). Setting the
 * variable also turns that dynamic raising off. Other C libraries ignore it.
 */
export const POD_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
