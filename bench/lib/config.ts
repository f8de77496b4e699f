// config.ts turns the command line into the bench's settings: which cases, how long, which generator, which cores.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultGenerator, type GeneratorName } from './load.js';
import { hasTaskset } from '../../harness/child.js';
import type { ServerNodeWanted } from '../../harness/server-node.js';

export const CASES = [
  'micro-ring',
  'micro-store',
  'baseline',
  'baseline-self',
  'api-hit',
  'peer-hop',
  'peer-hop-1key',
  'peer-hop-unbatched',
  'peer-hop-tls',
  'hot-key',
  'go-api-hit',
  'go-peer-hop',
  'miss-storm',
  'memory',
  'memory-shapes',
  'full-cache',
  'handoff',
  'hot-keys',
  'mget',
] as const;
export type CaseName = (typeof CASES)[number];

/** Cases a case's ratio is computed against, run along with it. */
const NEEDS: Partial<Record<CaseName, CaseName[]>> = {
  'baseline-self': ['baseline'],
  'api-hit': ['baseline'],
  'peer-hop': ['api-hit', 'baseline'],
  'peer-hop-1key': ['api-hit', 'baseline'],
  'peer-hop-unbatched': ['peer-hop', 'api-hit', 'baseline'],
  'peer-hop-tls': ['peer-hop', 'api-hit', 'baseline'],
  'hot-key': ['api-hit', 'baseline'],
  'go-api-hit': ['baseline'],
  'go-peer-hop': ['go-api-hit', 'baseline'],
};

/**
 * Only when asked for: `baseline-self` (the baseline against a second copy of itself) and
 * `peer-hop-unbatched` (the peer hop with GEECACHE_PEER_BATCH=off, two more pods and rounds) and
 * `peer-hop-tls` (the peer hop over mutual TLS, the same).
 */
const DEFAULT_CASES = CASES.filter((c) => c !== 'baseline-self' && c !== 'peer-hop-unbatched' && c !== 'peer-hop-tls');

export interface BenchConfig {
  quick: boolean;
  cases: ReadonlySet<CaseName>;
  /** Repeats of each throughput case; the table shows medians. Default 3 (quick: 1). */
  reps: number;
  /** Measured seconds per throughput run. Default 5 (quick: 2). */
  durationS: number;
  /** Seconds of load on each server before its first measured run. Default 5 (quick: 1). */
  warmupS: number;
  /**
   * Seconds of load before every measured run, after the first warm-up. Default 3 (quick: 0): a server
   * left idle while the other cases ran (the baseline; pods run with --no-memory-reducer) starts V8's
   * memory reducer (two or three full GCs of ~25 ms) when load returns; that belongs to the idle gap
   * the interleaving made, not to the measurement.
   */
  rewarmS: number;
  /** Extra measurements of a round when other work on the host disturbed it. Default 2 (quick: 0). */
  noisyRetries: number;
  connections: number;
  generator: GeneratorName;
  /** Cores for the servers under test and for the generator side (load generator, origin, this process). */
  serverCpus: string | undefined;
  loadCpus: string | undefined;
  /** Byte budget of the memory case. Default 256 MiB (quick: 64 MiB). */
  memoryBudgetBytes: number;
  /** Value sizes memory-shapes runs (--shape, repeatable); undefined: all of them. */
  shapes: number[] | undefined;
  /** Source latency in the miss storm, ms. Default 200. */
  stormLatencyMs: number;
  /** Concurrent requests in the miss storm. Default 1000. */
  stormRequests: number;
  jsonPath: string | undefined;
  /** The node the pods and baselines run on. Default: the image's (Dockerfile). */
  node: ServerNodeWanted;
}

export const USAGE = `usage: npm run bench -- [--quick] [--case NAME]... [--json PATH] [--reps N] [--duration S]
                      [--warmup S] [--rewarm S] [--generator wrk|autocannon] [--memory-mib N]
                      [--node image|current|PATH] [--shape BYTES]...
  --quick        every case once, briefly (about a minute in all)
  --case NAME    run only NAME (repeatable; ratios pull in their baselines): ${CASES.join(', ')}
  --json PATH    also write the JSON result to PATH (always: bench/results/<timestamp>.json and latest.json)
  --warmup S     seconds of load on every server before its first measured run (default 5, quick 1)
  --rewarm S     seconds of load on a server before each later measured run (default 3, quick 0)
  --generator    force the load generator (default: wrk when on PATH, else autocannon)
  --node         what the pods and baselines run on: the image's Node (default; scripts/node24.sh
                 fetches it once), the node running the bench (current), or a node binary
  --shape BYTES  memory-shapes runs only this value size (repeatable; default all: 8 to 16 MiB)`;

export function parseConfig(argv: string[]): BenchConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      case: { type: 'string', multiple: true },
      json: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rewarm: { type: 'string' },
      generator: { type: 'string' },
      'memory-mib': { type: 'string' },
      node: { type: 'string' },
      shape: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;

  const asked = values.case ?? [];
  for (const name of asked) {
    if (!(CASES as readonly string[]).includes(name)) throw new TypeError(`--case: unknown case "${name}"; known: ${CASES.join(', ')}`);
  }
  const cases = new Set<CaseName>(asked.length > 0 ? (asked as CaseName[]) : DEFAULT_CASES);
  for (const name of [...cases]) for (const need of NEEDS[name] ?? []) cases.add(need);

  const positive = (flag: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new TypeError(`--${flag} must be a positive number, got "${raw}"`);
    return n;
  };

  const generator = values.generator ?? defaultGenerator;
  if (generator !== 'wrk' && generator !== 'autocannon') throw new TypeError(`--generator must be wrk or autocannon, got "${generator}"`);
  if (values.node === '') throw new TypeError('--node must be image, current or the path of a node binary');

  // With two or more cores and taskset: servers on core 0, everything that makes load on core 1.
  const pin = hasTaskset && availableParallelism() >= 2;
  return {
    quick,
    cases,
    reps: Math.round(positive('reps', values.reps, quick ? 1 : 3)),
    durationS: Math.round(positive('duration', values.duration, quick ? 2 : 5)),
    warmupS: positive('warmup', values.warmup, quick ? 1 : 5),
    rewarmS: values.rewarm === '0' ? 0 : positive('rewarm', values.rewarm, quick ? 0 : 3),
    noisyRetries: quick ? 0 : 2,
    connections: 50,
    generator,
    serverCpus: pin ? '0' : undefined,
    loadCpus: pin ? '1' : undefined,
    memoryBudgetBytes: positive('memory-mib', values['memory-mib'], quick ? 64 : 256) * 1024 * 1024,
    shapes: values.shape?.map((raw) => Math.round(positive('shape', raw, 0))),
    stormLatencyMs: 200,
    stormRequests: 1000,
    jsonPath: values.json,
    node: values.node ?? 'image',
  };
}
