// origin.ts is the source of truth the bench controls: GET /<percent-encoded key> answers a deterministic value and counts loads.
import { createServer, type Server } from 'node:http';
import { valueFor, VALUE_BYTES } from './values.js';

export interface OriginOptions {
  /** Size of every value, bytes. Default 100. */
  valueBytes?: number;
  /** Delay before each answer, ms. Default 0. */
  latencyMs?: number;
}

export interface Origin {
  readonly url: string;
  /** Requests seen for `key` so far. */
  loadsOf(key: string): number;
  /** Requests seen for all keys so far. */
  readonly totalLoads: number;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** Starts an origin on 127.0.0.1 (port chosen by the OS), in this process. */
export async function startOrigin(options: OriginOptions = {}): Promise<Origin> {
  const valueBytes = options.valueBytes ?? VALUE_BYTES;
  let latencyMs = options.latencyMs ?? 0;
  const loads = new Map<string, number>();
  let total = 0;

  const server: Server = createServer((req, res) => {
    let key: string;
    try {
      key = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0] ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    loads.set(key, (loads.get(key) ?? 0) + 1);
    total++;
    const body = valueFor(key, valueBytes);
    const answer = (): void => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength });
      res.end(body);
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
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
    get totalLoads() {
      return total;
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
