// set.test.ts: PUT /api on a real three-process ring: every pod answers the new value, and a load in flight when
// the set lands cannot overwrite it afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CacheProcess } from '../../harness/cache-process.js';
import { keyOwnership, type KeyOwnership, startLoopbackRing } from '../../harness/loopback-ring.js';

const TOKEN = 'set-test-admin-token-0123';
const SLOW_MS = 800;
const pods: CacheProcess[] = [];
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const loads = new Map<string, number>();
let ring: KeyOwnership;

before(async () => {
  // Values say which load made them; keys starting "slow" take SLOW_MS.
  const origin = createServer((req, res) => {
    const key = decodeURIComponent(req.url!.slice(1));
    const n = (loads.get(key) ?? 0) + 1;
    loads.set(key, n);
    setTimeout(() => res.end(`origin ${key} #${n}`), key.startsWith('slow') ? SLOW_MS : 0);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => origin.close());
  pods.push(...(await startLoopbackRing(3, { GEECACHE_GROUPS: `g:8MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}`, GEECACHE_ADMIN_TOKEN: TOKEN })));
  cleanups.push(() => Promise.all(pods.map((pod) => pod.stop())));
  ring = keyOwnership(await Promise.all(pods.map(async (pod) => (JSON.parse((await pod.get('/debug/ring')).body) as { self: string }).self)));
});

function put(pod: CacheProcess, key: string, value: string, query = ''): Promise<Response> {
  return fetch(`${pod.baseUrl}/api?key=${encodeURIComponent(key)}${query}`, { method: 'PUT', body: value, headers: { authorization: `Bearer ${TOKEN}` } });
}

const everyPodSays = async (key: string) => Promise.all(pods.map(async (pod) => (await pod.get(`/api?key=${encodeURIComponent(key)}`)).body));

test('a set through any pod is what every pod answers next, hot copies included', async () => {
  const key = ring.keyOwnedBy(2, 'plain-');
  for (let i = 0; i < 20; i++) await everyPodSays(key); // the other pods fetch it often: some keep hot copies
  assert.deepEqual(await everyPodSays(key), Array(3).fill(`origin ${key} #1`));
  const res = await put(pods[0]!, key, 'set value', '&ttlMs=60000');
  assert.equal(res.status, 200, await res.clone().text());
  const report = (await res.json()) as { owner: string; reached: number };
  assert.equal(report.reached, 1, 'the one pod that is neither owner nor the one asked');
  assert.deepEqual(await everyPodSays(key), Array(3).fill('set value'));
  assert.equal(loads.get(key), 1);
});

test('a load in flight when the set lands answers its callers but does not overwrite the value set', async () => {
  const key = ring.keyOwnedBy(1, 'slow-');
  // The owner starts loading; another pod's fetch of it joins that load.
  const atOwner = pods[1]!.get(`/api?key=${key}`, 5000);
  const elsewhere = pods[2]!.get(`/api?key=${key}`, 5000);
  await new Promise((resolve) => setTimeout(resolve, SLOW_MS / 4));
  const res = await put(pods[0]!, key, 'set while loading');
  assert.equal(res.status, 200, await res.text());
  assert.equal((await atOwner).body, `origin ${key} #1`);
  assert.equal((await elsewhere).body, `origin ${key} #1`);
  assert.deepEqual(await everyPodSays(key), Array(3).fill('set while loading'));
  assert.equal(loads.get(key), 1);
});

test('without the admin token a set is refused and changes nothing', async () => {
  const key = ring.keyOwnedBy(0, 'guarded-');
  await everyPodSays(key);
  const res = await fetch(`${pods[1]!.baseUrl}/api?key=${key}`, { method: 'PUT', body: 'nope' });
  assert.equal(res.status, 403);
  assert.deepEqual(await everyPodSays(key), Array(3).fill(`origin ${key} #1`));
});
