// pods.ts runs a static ring of geecache pods on the harness's loopback layout whose members can be killed, stopped, terminated
// and started again on their own ports.
import { Agent } from 'node:http';
import { readdirSync } from 'node:fs';
import { NODE_FLAGS } from '../../src/memory/node-flags.js';
import { keyOwnership, loopbackRing } from '../../harness/loopback-ring.js';
import { MAIN_JS } from '../../harness/pod.js';
import { staticPodEnv } from '../lib/cluster.js';
import { scrape, sum, type Samples } from '../lib/metrics.js';
import { memoryOf } from '../lib/proc-stat.js';
import { spawnChild, type Child } from '../../harness/child.js';
import { waitForOk } from '../../harness/wait.js';
import { serverNode } from '../../harness/server-node.js';
import type { Target } from './clients.js';

/** The counters the reliability notes report, summed over a pod's lives and the ring's pods. */
export const TRACKED = {
  gets: 'geecache_gets_total',
  localLoads: 'geecache_local_loads_total',
  localLoadErrors: 'geecache_local_load_errors_total',
  peerLoads: 'geecache_peer_loads_total',
  peerErrors: 'geecache_peer_errors_total',
  trips: 'geecache_peer_circuit_trips_total',
} as const;
export type Totals = Record<keyof typeof TRACKED, number>;

const zeroTotals = (): Totals => ({ gets: 0, localLoads: 0, localLoadErrors: 0, peerLoads: 0, peerErrors: 0, trips: 0 });

function totalsOf(samples: Samples): Totals {
  const out = zeroTotals();
  for (const [field, name] of Object.entries(TRACKED) as [keyof Totals, string][]) out[field] = sum(samples, name);
  return out;
}

export function addTotals(a: Totals, b: Totals): Totals {
  const out = zeroTotals();
  for (const field of Object.keys(out) as (keyof Totals)[]) out[field] = a[field] + b[field];
  return out;
}

export function diffTotals(after: Totals, before: Totals): Totals {
  const out = zeroTotals();
  for (const field of Object.keys(out) as (keyof Totals)[]) out[field] = after[field] - before[field];
  return out;
}

/** One geecache process slot: fixed ports and name, any number of lives. */
export class Pod implements Target {
  readonly host = '127.0.0.1';
  /** Keep-alive connections of the reliability clients to this pod's HTTP port. */
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Lines of level error or fatal the pod logged, over all its lives (the first few kept). */
  errorLines = 0;
  readonly firstErrors: string[] = [];
  private current: Child | undefined;
  private lives = 0;
  /** Counters of the lives that ended with a terminate() (scraped just before the signal). */
  private retired = zeroTotals();

  constructor(
    readonly name: string,
    readonly index: number,
    readonly port: number,
    readonly peerPort: number,
    readonly self: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly nodeArgs: readonly string[],
  ) {}

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get child(): Child {
    if (!this.current) throw new Error(`${this.name} was never started`);
    return this.current;
  }

  get pid(): number {
    return this.child.pid;
  }

  get starts(): number {
    return this.lives;
  }

  get alive(): boolean {
    const proc = this.current?.process;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  }

  /** Starts a new life on the same ports and waits for /readyz; resolves with the ms that took. */
  async start(readyTimeoutMs = 20_000): Promise<number> {
    if (this.alive) throw new Error(`${this.name} is already running`);
    const started = performance.now();
    this.lives++;
    this.current = spawnChild(this.name, serverNode(), [...NODE_FLAGS, ...this.nodeArgs, MAIN_JS], {
      env: this.env,
      onLine: (line) => {
        if (!/"level":(50|60)/.test(line)) return;
        this.errorLines++;
        if (this.firstErrors.length < 3) this.firstErrors.push(line.slice(0, 400));
      },
    });
    await waitForOk(`${this.http}/readyz`, this.current, readyTimeoutMs);
    return performance.now() - started;
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /**
   * SIGTERM and wait for the exit (SIGKILL after `deadlineMs`); the counters of this life are kept
   * first. Resolves with the exit code (or signal) and the ms from the signal to the exit.
   */
  async terminate(deadlineMs = 15_000): Promise<{ code: number | string; ms: number }> {
    const child = this.child;
    try {
      this.retired = addTotals(this.retired, totalsOf(await scrape(`${this.http}/metrics`)));
    } catch {
      // Not answering /metrics (stopped, dying): its counters are lost, as a scraper would lose them.
    }
    const signalled = performance.now();
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), deadlineMs);
    const code = await child.exited;
    clearTimeout(timer);
    return { code, ms: performance.now() - signalled };
  }

  /** This pod's tracked counters over all its lives (the current one only while it answers). */
  async totals(): Promise<Totals> {
    if (!this.alive) return { ...this.retired };
    try {
      return addTotals(this.retired, totalsOf(await scrape(`${this.http}/metrics`)));
    } catch {
      return { ...this.retired };
    }
  }

  async samples(): Promise<Samples> {
    return scrape(`${this.http}/metrics`);
  }

  /** Resident set size now, bytes (NaN when gone). */
  rss(): number {
    return this.alive ? (memoryOf(this.pid)?.rss ?? NaN) : NaN;
  }

  /** Open file descriptors (NaN when gone). */
  fds(): number {
    try {
      return readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return NaN;
    }
  }

  /** The last lines the current life wrote. */
  tail(): string {
    return this.current?.tail() ?? '';
  }

  /** Stops the current life if it still runs (SIGTERM, SIGKILL after `graceMs`). */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.current) return;
    // A stopped process keeps a SIGTERM pending; let it run so the signal lands.
    if (this.alive) process.kill(this.pid, 'SIGCONT');
    await this.current.stop(graceMs);
    this.agent.destroy();
  }
}

export interface RingOptions {
  /** Prefix of the pods' names: <name>-a, <name>-b, … */
  name: string;
  pods: number;
  /** GEECACHE_GROUPS. */
  groups: string;
  /** More GEECACHE_* settings for every pod. */
  env?: Record<string, string>;
  nodeArgs?: readonly string[];
}

export interface Ring {
  readonly pods: readonly Pod[];
  ownerOf(key: string): number;
  keysOwnedBy(index: number, prefix: string, count: number): string[];
  /** Tracked counters summed over every pod. */
  totals(): Promise<Totals>;
  close(): Promise<void>;
}

/** Starts `pods` pods that list each other (static discovery) and waits until all are ready. */
export async function startRing(options: RingOptions): Promise<Ring> {
  const ring = await loopbackRing(options.pods);
  const { selves } = ring;
  const pods = selves.map((self, i) => {
    const env: NodeJS.ProcessEnv = {
      ...staticPodEnv(ring, i, options.groups),
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      ...options.env,
    };
    return new Pod(`${options.name}-${String.fromCharCode(97 + i)}`, i, ring.httpPorts[i]!, ring.peerPorts[i]!, self, env, options.nodeArgs ?? []);
  });
  const close = async (): Promise<void> => {
    await Promise.all(pods.map((pod) => pod.stop()));
  };
  try {
    await Promise.all(pods.map((pod) => pod.start()));
  } catch (err) {
    await close();
    throw err;
  }
  const { ownerOf, keysOwnedBy } = keyOwnership(selves);
  return {
    pods,
    ownerOf,
    keysOwnedBy,
    totals: async () => (await Promise.all(pods.map((pod) => pod.totals()))).reduce(addTotals, zeroTotals()),
    close,
  };
}
