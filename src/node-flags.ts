// node-flags.ts lists the V8 flags every geecache pod runs with, for each place that starts one (the Dockerfile's CMD, local-cluster, bench/).

/**
 * --no-memory-reducer: V8's memory reducer runs full GCs that shrink the heap of a process
 * that has gone idle. A pod that sat idle for 20 s after start-up and only then got load
 * served hot-key hits 19–36% slower for as long as it ran (bench/idle-probe.ts: 0.81x and
 * 0.64x of a pod loaded at once; with this flag 1.18x and 1.13x). A cache pod's memory is
 * mostly its byte budget, so keeping the heap it has grown costs little beside that.
 */
export const NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
