// freshness.test.ts runs TTL expiry and invalidation through a real three-process ring in front of a
// real HTTP origin whose values change: every pod must answer the new value, hot copies included.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CacheProcess } from '../../harness/cache-process.js';
import { metricValue } from '../../harness/cache-process.js';
import { startLoopbackRing } from '../../harness/loopback-ring.js';
import { waitFor } from '../../harness/wait.js';

const TOKEN = 'e2e-admin-token-0123456789';
const TTL_MS = 3000;

/** The origin: `<key>@v<version>`, each key's version set by the test; it counts loads and can hold one key's answer back. */
const versions = new Map<string, number>();
const loads = new Map<string, number>();
let holdKey: string | undefined;
const held: Array<() => void> = [];
/** Keys the origin answers with 503. */
const failing = new Set<string>();
const origin = createServer((req, res) => {
  const key = decodeURIComponent(req.url!.slice(1));
  loads.set(key, (loads.get(key) ?? 0) + 1);
  if (failing.has(key)) return void res.writeHead(503).end('origin down');
  const body = `${key}@v${versions.get(key) ?? 1}`;
  if (key === holdKey) held.push(() => res.end(body));
  else res.end(body);
});

const pods: CacheProcess[] = [];
before(async () => {
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const groups = [
    `timed:8MiB:${TTL_MS}ms:${url}`,
    `kept:8MiB:${url}`,
    `revalidated:8MiB:1s+stale-while-revalidate=1m:${url}`,
    `resilient:8MiB:1s+stale-if-error=1m:${url}`,
  ];
  pods.push(...(await startLoopbackRing(3, { GEECACHE_GROUPS: groups.join(','), GEECACHE_ADMIN_TOKEN: TOKEN })));
});
after(async () => {
  await Promise.all(pods.map((pod) => pod.stop()));
  origin.closeAllConnections();
  origin.close();
});

async function valueVia(pod: CacheProcess, group: string, key: string): Promise<string> {
  const answer = await pod.get(`/api?group=${group}&key=${encodeURIComponent(key)}`);
  assert.equal(answer.status, 200, `${pod.name}: ${answer.body}\n${pod.describe()}`);
  return answer.body;
}

/** Asks every pod for every key `rounds` times: non-owners keep about 1 in 10 fetched values as hot copies. */
async function warm(group: string, keys: readonly string[], rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await Promise.all(pods.flatMap((pod) => keys.map((key) => valueVia(pod, group, key))));
  }
}

/** A metric summed over the pods. */
async function total(name: string, labels: Record<string, string>): Promise<number> {
  let sum = 0;
  for (const pod of pods) sum += metricValue((await pod.get('/metrics')).body, name, labels) ?? 0;
  return sum;
}

const hotHits = (group: string) => total('geecache_cache_hits_total', { group, cache: 'hot' });

/** DELETE /api?<query> with the bearer token (null: no Authorization header). */
function invalidate(pod: CacheProcess, query: string, token: string | null = TOKEN): Promise<Response> {
  return fetch(`${pod.baseUrl}/api?${query}`, {
    method: 'DELETE',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
}

it("after the TTL every pod answers the origin's new value: hot copies expire with the owner's copy, not later", async () => {
  const keys = ['t1', 't2', 't3', 't4', 't5'];
  const firstLoad = Date.now();
  await warm('timed', keys, 1);
  // Every owner loaded its key by now: its copy expires by then + TTL, however slow the machine was.
  const loaded = Date.now();
  // Keep asking for two thirds of the TTL: hot copies taken late would outlive the owner's copy if they
  // counted their TTL from when they were fetched.
  while (Date.now() - firstLoad < (TTL_MS * 2) / 3) await warm('timed', keys, 1);
  assert.ok((await hotHits('timed')) > 0, 'some gets were answered from hot copies');
  for (const key of keys) versions.set(key, 2);
  for (const pod of pods) for (const key of keys) assert.equal(await valueVia(pod, 'timed', key), `${key}@v1`, 'fresh until the TTL');
  // A little past the owner's expiry (clock and scheduling slack), but well before a late hot copy's.
  await new Promise((resolve) => setTimeout(resolve, loaded + TTL_MS + 400 - Date.now()));
  for (const pod of pods) for (const key of keys) assert.equal(await valueVia(pod, 'timed', key), `${key}@v2`, `${pod.name} ${key}`);
});

it('without the admin token, or with a wrong one, DELETE is refused with 403 and a reason', async () => {
  const none = await invalidate(pods[0]!, 'group=kept&key=x', null);
  assert.equal(none.status, 403);
  assert.match(await none.text(), /wrong or missing admin token/);
  const wrong = await invalidate(pods[0]!, 'group=kept&key=x', 'not-the-right-token-at-all');
  assert.equal(wrong.status, 403);
  assert.equal((await invalidate(pods[0]!, 'group=kept')).status, 400, 'no key and no all=true');
  assert.equal((await invalidate(pods[0]!, 'group=nope&key=x')).status, 404);
});

it('DELETE through any pod: every pod answers the new value next, and the origin sees one load', async () => {
  const keys = ['d1', 'd2', 'd3'];
  await warm('kept', keys, 30);
  assert.ok((await hotHits('kept')) > 0, 'some gets were answered from hot copies');
  for (const [i, key] of keys.entries()) {
    versions.set(key, 2);
    const loadsBefore = loads.get(key);
    const answer = await invalidate(pods[i]!, `group=kept&key=${key}`);
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { group: 'kept', key, peers: 2, reached: 2, unreached: [] });
    for (const pod of pods) assert.equal(await valueVia(pod, 'kept', key), `${key}@v2`, `${pod.name} ${key}`);
    assert.equal(loads.get(key)! - loadsBefore!, 1, `one origin load for ${key} after its DELETE`);
  }
  const fromPeers = await total('geecache_invalidations_total', { group: 'kept', scope: 'key', from: 'peer' });
  assert.equal(fromPeers, 6, 'each DELETE reached the two other pods');
});

it('a load in flight when the DELETE arrives does not write the old value back', async () => {
  holdKey = 'race';
  const pending = valueVia(pods[0]!, 'kept', 'race');
  await waitFor(() => held.length === 1, 5000, 'the origin received the load');
  versions.set('race', 2);
  const answer = await invalidate(pods[2]!, 'group=kept&key=race');
  assert.equal(answer.status, 200);
  holdKey = undefined;
  held.shift()!();
  assert.equal(await pending, 'race@v1', 'asked before the DELETE: the value of its time');
  for (const pod of pods) assert.equal(await valueVia(pod, 'kept', 'race'), 'race@v2', pod.name);
  assert.equal(loads.get('race'), 2);
});

it('DELETE with all=true empties the group on every pod', async () => {
  const keys = ['r1', 'r2'];
  await warm('kept', keys, 5);
  for (const key of keys) versions.set(key, 3);
  const answer = await invalidate(pods[1]!, 'group=kept&all=true');
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { group: 'kept', all: true, peers: 2, reached: 2, unreached: [] });
  for (const pod of pods) for (const key of keys) assert.equal(await valueVia(pod, 'kept', key), `${key}@v3`);
});

it('stale-while-revalidate: past the TTL every pod answers at once while the owner runs one refresh', async () => {
  await warm('revalidated', ['s'], 1);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  versions.set('s', 2);
  holdKey = 's';
  for (const pod of pods) assert.equal(await valueVia(pod, 'revalidated', 's'), 's@v1', `${pod.name} answers without waiting for the origin`);
  await waitFor(() => held.length === 1, 5000, 'the refresh reached the origin');
  holdKey = undefined;
  held.shift()!();
  await waitFor(async () => (await valueVia(pods[0]!, 'revalidated', 's')) === 's@v2', 5000, 'the refreshed value');
  for (const pod of pods) assert.equal(await valueVia(pod, 'revalidated', 's'), 's@v2');
  assert.equal(loads.get('s'), 2, 'one load, one refresh');
  assert.ok((await total('geecache_stale_served_total', { group: 'revalidated', reason: 'revalidate' })) >= 3);
});

it('stale-if-error: past the TTL, while the origin fails, every pod answers the last value', async () => {
  await warm('resilient', ['e'], 1);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  failing.add('e');
  for (const pod of pods) assert.equal(await valueVia(pod, 'resilient', 'e'), 'e@v1', pod.name);
  assert.ok((await total('geecache_stale_served_total', { group: 'resilient', reason: 'error' })) >= 1);
  failing.delete('e');
  versions.set('e', 2);
  for (const pod of pods) assert.equal(await valueVia(pod, 'resilient', 'e'), 'e@v2', `${pod.name}: fresh again once the origin answers`);
});
