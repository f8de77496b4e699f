// bounded-work.test.ts checks on real processes that a pod's work stays bounded when clients give up or ask
// too much: a load nobody waits for stops at the origin, a full origin queue answers 503 at once, and a
// batch naming one large key many times cannot take the owner's memory with it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { CacheProcess } from '../../harness/cache-process.js';
import { loopbackRing, ringSettings, startLoopbackRing } from '../../harness/loopback-ring.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { BATCH_CONTENT_TYPE, encodeKeys, FrameReader } from '../../src/protocol/batch.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** An origin that answers every key after `latencyMs`, and notes when each request arrived. */
async function slowOrigin(latencyMs: number): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server: Server = createServer((req, res) => {
    arrivals.push(performance.now());
    const timer = setTimeout(() => res.end(`value of ${req.url}`), latencyMs);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)).then(() => undefined), () => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** GET on a fresh connection; with `hangUpAfterMs`, the client closes it then and the answer is undefined. */
function ask(url: string, hangUpAfterMs?: number): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(undefined));
    });
    const timer = hangUpAfterMs === undefined ? undefined : setTimeout(() => req.destroy(), hangUpAfterMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
    req.on('error', (err) => (hangUpAfterMs === undefined ? reject(err) : resolve(undefined)));
    req.end();
  });
}

async function onePod(env: Record<string, string>): Promise<CacheProcess> {
  const [pod] = await startLoopbackRing(1, env);
  cleanups.push(() => pod!.stop());
  return pod!;
}

describe('loads nobody waits for', () => {
  it('stop at the origin once their clients hang up, queued ones never reach it, and /healthz stays quick', async (t) => {
    const origin = await slowOrigin(1000);
    const pod = await onePod({ GEECACHE_GROUPS: `slow:8MiB:${origin.url}`, GEECACHE_ORIGIN_CONCURRENCY: '8', GEECACHE_ORIGIN_QUEUE: '64' });
    // 40 clients, each asking for new keys and hanging up after 200 ms, for 1.5 s: far more misses
    // than 8 origin requests at a time can carry.
    let next = 0;
    const healthMs: number[] = [];
    const until = performance.now() + 1500;
    const client = async () => {
      while (performance.now() < until) await ask(`${pod.baseUrl}/api?group=slow&key=k${next++}`, 200);
    };
    const probe = async () => {
      while (performance.now() < until) {
        const started = performance.now();
        assert.equal((await ask(`${pod.baseUrl}/healthz`))?.status, 200);
        healthMs.push(performance.now() - started);
        await sleep(100);
      }
    };
    await Promise.all([...Array.from({ length: 40 }, client), probe()]);
    const left = performance.now();
    const during = origin.arrivals.length;
    // Before loads stopped with their clients, the queue behind the origin kept it busy for seconds.
    await sleep(1500);
    const afterwards = origin.arrivals.filter((at) => at > left + 50).length;
    t.diagnostic(`${next} keys asked; origin requests: ${during} while the clients were there, ${afterwards} after; slowest /healthz ${Math.round(Math.max(...healthMs))} ms`);
    assert.ok(next > 200, `the clients asked for ${next} keys`);
    assert.ok(during >= 8, `the origin got ${during} requests while the clients were there`);
    assert.ok(afterwards <= Math.max(1, during * 0.05), `${afterwards} origin requests after the clients left, ${during} while they were there`);
    assert.ok(Math.max(...healthMs) < 250, `slowest /healthz took ${Math.round(Math.max(...healthMs))} ms`);
    const metrics = (await ask(`${pod.baseUrl}/metrics`))!.body;
    assert.match(metrics, /geecache_loads_abandoned_total\{group="slow"\} [1-9]/);
  });

  it('past the queue, a miss is answered 503 with Retry-After at once; the callers that stay share one load per key', async () => {
    const origin = await slowOrigin(500);
    const pod = await onePod({ GEECACHE_GROUPS: `shed:8MiB:${origin.url}`, GEECACHE_ORIGIN_CONCURRENCY: '2', GEECACHE_ORIGIN_QUEUE: '2' });
    // Three callers for each of k0..k3: 4 loads, 2 running and 2 queued, none shed.
    const kept = await Promise.all([0, 1, 2, 3].flatMap((i) => [0, 1, 2].map(() => ask(`${pod.baseUrl}/api?group=shed&key=k${i}`))));
    assert.deepEqual(
      kept.map((answer) => answer?.status),
      Array(12).fill(200),
    );
    assert.equal(origin.arrivals.length, 4, 'one origin request per key for the callers that stayed');
    const blockers = [6, 7, 8, 9].map((i) => ask(`${pod.baseUrl}/api?group=shed&key=k${i}`));
    await sleep(100);
    const started = performance.now();
    const shed = await ask(`${pod.baseUrl}/api?group=shed&key=k10`);
    const tookMs = performance.now() - started;
    assert.equal(shed?.status, 503);
    assert.equal(shed?.headers['retry-after'], '1');
    assert.match(shed!.body, /2 loads running and 2 waiting/);
    assert.ok(tookMs < 250, `the 503 took ${Math.round(tookMs)} ms`);
    assert.deepEqual(
      (await Promise.all(blockers)).map((answer) => answer?.status),
      [200, 200, 200, 200],
    );
  });
});

/** The resident memory of process `pid`, in MiB (Linux). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

describe('a batch naming one large key many times', () => {
  it('is answered within a 64 MiB budget (the rest of its keys 507), and the owner\'s memory stays within it', async (t) => {
    const big = Buffer.alloc(1024 * 1024, 7);
    const origin = createServer((_req, res) => res.end(big));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => origin.close(resolve)).then(() => undefined));
    const ring = await loopbackRing(1);
    const pod = new CacheProcess({
      name: 'owner',
      host: '127.0.0.1',
      httpPort: ring.httpPorts[0]!,
      env: { ...ringSettings(ring, 0), LOG_LEVEL: 'warn', GEECACHE_GROUPS: `big:256MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}` },
    });
    cleanups.push(() => pod.stop());
    await waitFor(async () => (await pod.get('/readyz')).status === 200, 15_000, pod.describe());
    assert.equal((await pod.get('/api?group=big&key=big')).status, 200);
    await sleep(200);
    const before = rssMiB(pod.child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pod.child.pid!))), 10);
    const statuses = new Map<number, number>();
    let valueBytes = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: ring.peerPorts[0], path: '/_geecache/big/', method: 'POST', agent: false, headers: { 'content-type': BATCH_CONTENT_TYPE } },
          (res) => {
            assert.equal(res.statusCode, 200);
            const reader = new FrameReader();
            res.on('data', (chunk: Buffer) => {
              for (const frame of reader.push(chunk)) {
                statuses.set(frame.status, (statuses.get(frame.status) ?? 0) + 1);
                if (frame.status === 200) valueBytes += frame.bytes.byteLength;
              }
            });
            res.on('end', resolve);
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(encodeKeys(Array(512).fill('big')));
      });
    } finally {
      clearInterval(sampler);
    }
    t.diagnostic(`owner RSS ${Math.round(before)} -> peak ${Math.round(peak)} MiB; frames by status ${JSON.stringify([...statuses])}`);
    assert.deepEqual([...statuses.entries()].sort(), [
      [200, 64],
      [507, 448],
    ]);
    assert.equal(valueBytes, 64 * 1024 * 1024);
    assert.ok(peak - before <= 64, `the owner's RSS grew by ${Math.round(peak - before)} MiB (${Math.round(before)} -> ${Math.round(peak)})`);
  });
});
