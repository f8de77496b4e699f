// cache-process.ts runs `node dist/src/main.js` as a child process for multi-process tests: output capture, HTTP probes, stop.

import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The compiled entry point, next to this file's compiled copy (dist/test/support → dist/src). */
export const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** Every process started here; killed with SIGKILL if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

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

function listenOn(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

const closeAll = (servers: Server[]) => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));

/**
 * A port that is free on every one of `hosts` right now (each pod of a test cluster
 * listens on the same port at its own address), other than those in `avoid`.
 */
export async function freePortOnAll(hosts: readonly string[], avoid: readonly number[] = []): Promise<number> {
  const [first, ...rest] = hosts;
  if (first === undefined) throw new TypeError('freePortOnAll: no hosts');
  for (let attempt = 0; attempt < 50; attempt++) {
    const held: Server[] = [];
    const probe = await listenOn(first, 0);
    if (!probe) continue;
    held.push(probe);
    const port = (probe.address() as { port: number }).port;
    let free = !avoid.includes(port);
    for (const host of rest) {
      if (!free) break;
      const server = await listenOn(host, port);
      if (server) held.push(server);
      else free = false;
    }
    await closeAll(held);
    if (free) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} after 50 tries`);
}

export interface CacheProcessOptions {
  /** Shown in messages, e.g. pod-0. */
  name: string;
  /** Address the HTTP port answers on. */
  host: string;
  httpPort: number;
  /** Environment on top of PATH (nothing else of the test's environment leaks in). */
  env: Record<string, string>;
  /** Output kept for messages, from the end. Default 64 KiB. */
  keepBytes?: number;
}

/** One `node dist/src/main.js` child. */
export class CacheProcess {
  readonly name: string;
  readonly baseUrl: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly startedAt = Date.now();
  #output = '';
  readonly #keepBytes: number;

  constructor(options: CacheProcessOptions) {
    this.name = options.name;
    this.baseUrl = `http://${options.host}:${options.httpPort}`;
    this.#keepBytes = options.keepBytes ?? 64 * 1024;
    this.child = spawn(process.execPath, ['--enable-source-maps', MAIN_JS], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        running.delete(this.child);
        resolve();
      });
      // spawn itself failed: no 'exit' follows.
      this.child.once('error', (err) => {
        this.#append(`[spawn error] ${err.message}\n`);
        running.delete(this.child);
        resolve();
      });
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.#append(chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => this.#append(chunk.toString('utf8')));
  }

  #append(text: string): void {
    this.#output += text;
    if (this.#output.length > this.#keepBytes) this.#output = this.#output.slice(-this.#keepBytes);
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null || !running.has(this.child);
  }

  /** The captured stdout and stderr, with exit status. */
  describe(): string {
    const status = this.hasExited ? `exited (code ${this.child.exitCode}, signal ${this.child.signalCode})` : `running for ${Date.now() - this.startedAt} ms (pid ${this.child.pid})`;
    return `--- ${this.name} ${this.baseUrl}: ${status}\n${this.#output.trimEnd() || '(no output)'}`;
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
    this.#append(`[test] no exit ${graceMs} ms after SIGTERM; sending SIGKILL\n`);
    this.child.kill('SIGKILL');
    await Promise.race([this.exited, timer(2000)]);
  }
}
