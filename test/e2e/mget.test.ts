// mget.test.ts: POST /api/mget on a real three-process ring: values byte for byte, per-key statuses, one batch per
// owner, one load per key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricValue, type CacheProcess } from '../../harness/cache-process.js';
import { keyOwnership, startLoopbackRing } from '../../harness/loopback-ring.js';
import { mget } from '../../harness/mget.js';

/** A value with every byte value in it, different for every key. */
const valueOf = (key: string): Buffer => Buffer.concat([createHash('sha256').update(key).digest(), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(key)]);

const pods: CacheProcess[] = [];
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const loads = new Map<string, number>();
before(async () => {
  const origin = createServer((req, res) => {
    const key = decodeURIComponent(req.url!.slice(1));
    loads.set(key, (loads.get(key) ?? 0) + 1);
    if (key.startsWith('missing')) return void res.writeHead(404).end();
    if (key.startsWith('broken')) return void res.writeHead(500).end();
    res.end(valueOf(key));
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => origin.close());
  pods.push(...(await startLoopbackRing(3, { GEECACHE_GROUPS: `bin:8MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}` })));
  cleanups.push(() => Promise.all(pods.map((pod) => pod.stop())));
});

test('a multi-get through one pod answers every key byte for byte, with one batch to each other owner and one load per key', async () => {
  const ring = keyOwnership((await ringSelves()));
  const keys = [0, 1, 2].flatMap((owner) => ring.keysOwnedBy(owner, `m${owner}-`, 20));
  const odd = [ring.keyOwnedBy(1, 'missing-'), ring.keyOwnedBy(2, 'broken-')];
  const before = await pods[0]!.get('/metrics');
  const answer = await mget(pods[0]!.baseUrl, [...keys, ...odd], { group: 'bin' });
  assert.equal(answer.status, 200, answer.text);
  for (const key of keys) {
    const frame = answer.byKey.get(key);
    assert.equal(frame?.status, 200, `${key}: ${frame?.bytes.toString()}`);
    assert.ok(frame.bytes.equals(valueOf(key)), `${key} byte for byte`);
  }
  assert.equal(answer.byKey.get(odd[0]!)?.status, 404);
  assert.ok((answer.byKey.get(odd[1]!)?.status ?? 200) >= 500, 'a failed key fails alone');
  const afterText = (await pods[0]!.get('/metrics')).body;
  const batches = (text: string) => metricValue(text, 'geecache_peer_http_requests_total', { kind: 'batch' }) ?? 0;
  const gets = (text: string) => metricValue(text, 'geecache_peer_http_requests_total', { kind: 'get' }) ?? 0;
  assert.equal(batches(afterText) - batches(before.body), 2, 'one batch to each of the two other owners');
  assert.equal(gets(afterText) - gets(before.body), 0, 'no single gets');
  for (const key of [...keys, ...odd]) assert.equal(loads.get(key), 1, `${key} loaded once`);
  // Asked again through another pod: nothing new is loaded.
  const again = await mget(pods[1]!.baseUrl, keys, { group: 'bin' });
  assert.ok(keys.every((key) => again.byKey.get(key)?.bytes.equals(valueOf(key))));
  for (const key of keys) assert.equal(loads.get(key), 1, `${key} still loaded once`);
  assert.equal(metricValue(afterText, 'geecache_mget_keys_total', { group: 'bin', code: '200' }), 60);
});

test('past the key limit the whole request is a 413; an unknown group a 404', async () => {
  const tooMany = await mget(pods[0]!.baseUrl, Array.from({ length: 1001 }, (_, i) => `k${i}`), { group: 'bin' });
  assert.equal(tooMany.status, 413, tooMany.text);
  assert.match(tooMany.text, /more than 1000 keys/);
  assert.equal((await mget(pods[0]!.baseUrl, ['a'], { group: 'nope' })).status, 404);
});

/** Each pod's peer URL, in pod order, as the ring hashes them. */
async function ringSelves(): Promise<string[]> {
  return Promise.all(pods.map(async (pod) => (JSON.parse((await pod.get('/debug/ring')).body) as { self: string }).self));
}
