// origin.ts is the source the reliability runs control: per-key answers (value, 404, 500), a latency that can change mid-run, and a count of loads per key.
import { createServer } from 'node:http';
import { valueFor } from '../lib/values.js';

export interface Answer {
  /** 200 (the key's value), or an error status answered with a one-line body. Default 200. */
  status?: number;
  /** Delay before the answer, ms. Default: the origin's latency. */
  latencyMs?: number;
}

export interface FaultyOriginOptions {
  /** Size of every value, bytes. Default 100 (bench/values.ts). */
  valueBytes?: number;
  /** Delay before every answer, ms. Default 0. */
  latencyMs?: number;
  /** How to answer a key. Default: its value. */
  answer?: (key: string) => Answer;
}

export interface FaultyOrigin {
  readonly url: string;
  /** Requests seen for `key`. */
  loadsOf(key: string): number;
  /** Every key asked for, with its count. */
  readonly loads: ReadonlyMap<string, number>;
  readonly totalLoads: number;
  /** Requests whose asker closed the connection before the answer was sent. */
  readonly abandoned: number;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** Starts the origin on 127.0.0.1 (port chosen by the OS), in this process. */
export async function startFaultyOrigin(options: FaultyOriginOptions = {}): Promise<FaultyOrigin> {
  const valueBytes = options.valueBytes ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  const answerFor: (key: string) => Answer = options.answer ?? (() => ({}));
  const loads = new Map<string, number>();
  let total = 0;
  let abandoned = 0;

  const server = createServer((req, res) => {
    let key: string;
    try {
      key = decodeURIComponent((req.url ?? '/').slice(1));
    } catch {
      res.writeHead(400).end('bad key encoding\n');
      return;
    }
    loads.set(key, (loads.get(key) ?? 0) + 1);
    total++;
    const answer = answerFor(key);
    const status = answer.status ?? 200;
    const reply = (): void => {
      if (res.destroyed || req.socket.destroyed) {
        abandoned++;
        return;
      }
      if (status === 200) {
        const body = valueFor(key, valueBytes);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength }).end(body);
      } else {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`origin says ${status} for this key\n`);
      }
    };
    const delay = answer.latencyMs ?? latencyMs;
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    loadsOf: (key) => loads.get(key) ?? 0,
    loads,
    get totalLoads() {
      return total;
    },
    get abandoned() {
      return abandoned;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
