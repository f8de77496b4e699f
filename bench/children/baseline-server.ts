// baseline-server.ts is the yardstick: a plain node:http server answering GET /api?key=K from a Map, run as its own process.
//
// Usage: node dist/bench/baseline-server.js   (env BENCH_KEYS=k1,k2  BENCH_VALUE_BYTES=100  BENCH_DELAY_MS=0  BENCH_BODY=bytes)
// With BENCH_DELAY_MS it answers every request after that delay: the ideal server for a miss storm.
// BENCH_BODY=text writes each value as latin1 text made once at start (bench/experiments/write-path.ts), not as a Buffer.
// Prints "listening <port>" once it accepts connections on 127.0.0.1.
import { createServer } from 'node:http';
import { valueFor, VALUE_BYTES } from '../lib/values.js';

const keys = (process.env.BENCH_KEYS ?? '').split(',').filter(Boolean);
const size = Number(process.env.BENCH_VALUE_BYTES ?? VALUE_BYTES);
const values = new Map<string, Buffer>(keys.map((key) => [key, valueFor(key, size)]));
const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
const texts = process.env.BENCH_BODY === 'text' ? new Map([...values].map(([key, value]) => [key, value.toString('latin1')])) : undefined;

// What a careful hand-written server does and no more: parse the query string,
// look the key up, write the bytes with a length. The same content type geecache uses.
const server = createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const key = path === '/api' && q !== -1 ? new URLSearchParams(url.slice(q + 1)).get('key') : null;
  const value = key === null ? undefined : values.get(key);
  if (value === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end('not found\n');
    return;
  }
  const text = texts?.get(key!);
  const answer = (): void => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': value.byteLength });
    if (text === undefined) res.end(value);
    else res.end(text, 'latin1');
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});

server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
