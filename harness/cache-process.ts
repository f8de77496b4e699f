// cache-process.ts runs one `node dist/src/main.js` for the multi-process tests, through the harness's process starter:
// HTTP probes, output for messages, stop.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { spawnChild, type Child } from './child.js';
import { MAIN_JS } from './pod.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET on a fresh connection (no keep-alive sockets outlive a test), failing after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Sums the samples of a Prometheus text-format metric whose labels include `labels`; undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

export interface CacheProcessOptions {
  /** Shown in messages, e.g. pod-0. */
  name: string;
  /** Address the HTTP port answers on. */
  host: string;
  httpPort: number;
  /** Environment on top of PATH (nothing else of the test's environment leaks in). */
  env: Record<string, string>;
  /** Output lines kept for messages, from the end. Default 1000. */
  keepLines?: number;
}

/** One `node dist/src/main.js` child. */
export class CacheProcess {
  readonly name: string;
  readonly baseUrl: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly startedAt = Date.now();
  readonly #started: Child;
  #gone = false;
  /** What the harness did to the process, shown after its output. */
  #notes = '';

  constructor(options: CacheProcessOptions) {
    this.name = options.name;
    this.baseUrl = `http://${options.host}:${options.httpPort}`;
    // Nothing of the test's environment leaks in but PATH.
    this.#started = spawnChild(options.name, process.execPath, ['--enable-source-maps', MAIN_JS], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      keepLines: options.keepLines ?? 1000,
    });
    this.child = this.#started.process;
    this.exited = this.#started.exited.then(() => {
      this.#gone = true;
    });
  }

  get hasExited(): boolean {
    return this.#gone || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The captured stdout and stderr, with exit status. */
  describe(): string {
    const status = this.hasExited ? `exited (code ${this.child.exitCode}, signal ${this.child.signalCode})` : `running for ${Date.now() - this.startedAt} ms (pid ${this.child.pid})`;
    return `--- ${this.name} ${this.baseUrl}: ${status}\n${this.#started.tail().trimEnd() || '(no output)'}${this.#notes}`;
  }

  get(path: string, timeoutMs?: number): Promise<HttpAnswer> {
    return httpGet(this.baseUrl + path, timeoutMs);
  }

  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. Idempotent. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    const timer = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer(graceMs)])) === 'exited') return;
    this.#notes += `\n[test] no exit ${graceMs} ms after SIGTERM; sending SIGKILL`;
    this.child.kill('SIGKILL');
    await Promise.race([this.exited, timer(2000)]);
  }
}
