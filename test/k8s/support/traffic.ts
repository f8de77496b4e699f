// traffic.ts is the load the real-cluster tests put on a release: an origin on the node's address that
// counts loads per key, and a bounded client loop through the API Service that counts every failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { httpGet } from '../../../harness/cache-process.js';
import { sleep, type Cleanup } from './kube.js';

export interface Origin {
  /** http://<node address>:<port>, as the pods reach it. */
  url: string;
  /** Loads per key since the start, or since the last reset(). */
  loads: Map<string, number>;
  total(): number;
  reset(): void;
}

/** The value every key has: the client loop checks each answer against it. */
export const valueOf = (key: string): string => `value of ${key}`;

/** An origin for an HTTP-origin group: keys starting with "k" exist, others are 404. */
export async function startOrigin(host: string, cleanup: Cleanup = after): Promise<Origin> {
  let loads = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '/').slice(1));
    loads.set(key, (loads.get(key) ?? 0) + 1);
    if (!key.startsWith('k')) return void res.writeHead(404).end('no such key');
    res.end(valueOf(key));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  cleanup(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    get loads() {
      return loads;
    },
    total: () => [...loads.values()].reduce((a, b) => a + b, 0),
    reset: () => {
      loads = new Map();
    },
  };
}

export interface LoopReport {
  requests: number;
  /** Requests that got no answer or an error status, with what happened. */
  failures: string[];
  /** 200s whose body was not the key's value. */
  wrong: number;
  /** Every request's time to its answer or failure. */
  latenciesMs: number[];
}

export interface ClientLoop {
  /** Requests and failures so far. */
  readonly report: LoopReport;
  /** Stops the loop and waits for the requests in flight. */
  stop(): Promise<LoopReport>;
}

/**
 * `workers` clients, each asking for a random key of `keys` through `baseUrl` (the API Service's
 * ClusterIP) on a fresh connection, one request after another with `pauseMs` between, until stopped
 * or `maxSeconds` pass. A failure is anything but a 200 with the key's value.
 */
export function clientLoop(baseUrl: string, group: string, keys: readonly string[], options: { workers?: number; pauseMs?: number; maxSeconds?: number } = {}): ClientLoop {
  const report: LoopReport = { requests: 0, failures: [], wrong: 0, latenciesMs: [] };
  const deadline = Date.now() + (options.maxSeconds ?? 600) * 1000;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline) {
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      report.requests++;
      const started = performance.now();
      try {
        const answer = await httpGet(`${baseUrl}/api?group=${group}&key=${encodeURIComponent(key)}`, 5000);
        if (answer.status === 200 && answer.body !== valueOf(key)) report.wrong++;
        if (answer.status !== 200 || answer.body !== valueOf(key)) {
          report.failures.push(`${new Date().toISOString()} ${key}: ${answer.status} ${answer.body.slice(0, 120)}`);
        }
      } catch (err) {
        report.failures.push(`${new Date().toISOString()} ${key}: ${(err as Error).message}`);
      }
      report.latenciesMs.push(performance.now() - started);
      await sleep(options.pauseMs ?? 20);
    }
  };
  const running = Promise.all(Array.from({ length: options.workers ?? 4 }, worker));
  return {
    report,
    async stop() {
      stopped = true;
      await running;
      return report;
    },
  };
}

/** The q-quantile (0..1) of `values`, by nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
