// The README's main job, run for real: three processes from `local-cluster`, on free ports.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { freePorts } from '../../harness/ports.js';
import { metricValue } from '../../harness/cache-process.js';
import { waitFor } from '../../harness/wait.js';
import { startProcess } from '../support/processes.js';

const [p1, p2, p3, h1, h2, h3] = await freePorts(6);
const httpPorts = [h1!, h2!, h3!];
const cluster = startProcess(['dist/src/local-cluster.js', '--peer-ports', `${p1},${p2},${p3}`, '--http-ports', httpPorts.join(',')], {
  env: { ...process.env, LOG_FORMAT: 'json', GEECACHE_DEMO_LATENCY_MS: '300' },
  // The leader of its own process group, as a shell makes a foreground job, so that the last test can signal the group.
  detached: true,
});
after(() => cluster.stop());
const api = `http://127.0.0.1:${h3}`;

async function text(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

test('all three peers come up ready', async () => {
  for (const port of httpPorts) {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 15_000, `peer on ${port}:\n${cluster.output()}`);
  }
});

test('50 concurrent requests for one cold key: one source load across the cluster, 50 right answers', async () => {
  const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${api}/api?key=Tom`).then(async (r) => [r.status, await r.text()])));
  for (const answer of answers) assert.deepEqual(answer, [200, '630']);
  let loads = 0;
  for (const port of httpPorts) loads += metricValue(await text(`http://127.0.0.1:${port}/metrics`), 'geecache_local_loads_total') ?? 0;
  assert.equal(loads, 1, cluster.output());
  // The seed's demo: a missing key is 404 with the source's message, from any peer.
  for (const port of httpPorts) {
    const response = await fetch(`http://127.0.0.1:${port}/api?key=kkk`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'kkk not exist\n');
  }
});

test('a burst of different keys through one peer: every answer right, found or not, however the hops were batched', async () => {
  // Keep-alive connections opened first, so the burst reaches the peer at once and its hops share batches.
  const pool = new Pool(api, { connections: 60 });
  after(() => pool.close());
  await Promise.all(Array.from({ length: 60 }, () => pool.request({ path: '/readyz', method: 'GET' }).then((r) => r.body.text())));
  const keys = Array.from({ length: 60 }, (_, i) => ['Tom', 'Jack', 'Sam'][i % 4] ?? `missing-${i}`);
  const answers = await Promise.all(
    keys.map(async (key) => {
      const response = await pool.request({ path: `/api?key=${key}`, method: 'GET' });
      return [response.statusCode, await response.body.text()];
    }),
  );
  const expected = keys.map((key) => ({ Tom: [200, '630'], Jack: [200, '589'], Sam: [200, '567'] })[key] ?? [404, `${key} not exist\n`]);
  assert.deepEqual(answers, expected);
  const metrics = await text(`${api}/metrics`);
  const batches = metricValue(metrics, 'geecache_peer_http_requests_total', { kind: 'batch' });
  const gets = metricValue(metrics, 'geecache_peer_http_requests_total', { kind: 'get' });
  assert.ok(batches !== undefined && gets !== undefined, 'the peer exports its peer traffic');
});

test('every peer agrees on the owner of every key', async () => {
  for (const key of ['Tom', 'Jack', 'Sam', 'kkk']) {
    const owners = await Promise.all(httpPorts.map(async (port) => JSON.parse(await text(`http://127.0.0.1:${port}/debug/ring?key=${key}`)).owner));
    assert.equal(new Set(owners).size, 1, `${key}: ${owners.join(', ')}`);
  }
});

test("Ctrl-C (SIGINT to the whole process group) shuts every peer down gracefully, once, and the cluster exits 0", async () => {
  process.kill(-cluster.child.pid!, 'SIGINT');
  assert.equal(await cluster.exited, 0, cluster.output());
  const output = cluster.output();
  assert.equal((output.match(/"msg":"signal received"/g) ?? []).length, 3, output);
  assert.doesNotMatch(output, /second signal/);
  assert.equal((output.match(/"msg":"shut down"/g) ?? []).length, 3, output);
  for (const port of httpPorts) await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});
