// case.ts says what a bench case is: a name, and either a target measured in the shared throughput rounds
// or a run of its own that makes its own rows.
import type { Cluster } from './cluster.js';
import type { BenchConfig, CaseName } from './config.js';
import type { Row } from './report.js';
import type { Target } from './throughput.js';

export type Log = (message: string) => void;

/** The servers a throughput case is measured on; cases naming the same ring share its pods. */
export type ServerSpec =
  /** The case starts its own process (the baselines). */
  | { readonly kind: 'own' }
  | { readonly kind: 'geecache'; readonly name: string; readonly pods: number; readonly hotCache: 'on' | 'off'; readonly peerBatch?: 'off'; readonly peerTls?: 'on' }
  /** Two Go groupcache pods (bench/reference/groupcache-server). */
  | { readonly kind: 'go' };

/** What the throughput stage hands a case to build its target from. */
export interface StartedServers {
  /** The running pods of `spec` (started once for every case that names it). */
  cluster(spec: ServerSpec): Cluster;
  /** The servers' core for taskset, or undefined when nothing is pinned. */
  readonly cpus: string | undefined;
  /** "core 0" or "unpinned", for the setup notes. */
  readonly core: string;
  /** The key the API-hit and baseline cases ask for: one the API pod of the api-hit ring owns. */
  readonly apiKey: string;
}

/** A case measured under load from wrk or autocannon, side by side with the other throughput cases. */
export interface ThroughputCase {
  readonly kind: 'throughput';
  readonly name: CaseName;
  readonly servers: ServerSpec;
  target(servers: StartedServers): Target | Promise<Target>;
}

/** A case that runs on its own (micro benchmarks, miss storm, memory, handoff, hot keys). */
export interface SoloCase {
  readonly kind: 'solo';
  readonly name: CaseName;
  /** Whether it needs dist/src/main.js (else SKIP when the server is not built). */
  readonly needsServer: boolean;
  rows(config: BenchConfig, log: Log): Row[] | Promise<Row[]>;
}

export type BenchCase = ThroughputCase | SoloCase;
