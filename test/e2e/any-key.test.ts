// any-key.test.ts checks with fast-check that any key a client can send reaches the right value through
// every pod of a real three-process ring: /api's form decoding, the peer GET's path escaping and the
// batch's length-prefixed keys must all round-trip it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { CacheProcess } from '../../harness/cache-process.js';
import { startLoopbackRing } from '../../harness/loopback-ring.js';

const pods: CacheProcess[] = [];
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

before(async () => {
  // The origin answers every key with a value derived from it, so a wrong key shows as a wrong value.
  const origin = createServer((req, res) => {
    const key = decodeURIComponent(req.url!.slice(1));
    res.end(JSON.stringify({ key }));
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => origin.close());
  pods.push(...(await startLoopbackRing(3, { GEECACHE_GROUPS: `any:8MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}` })));
  cleanups.push(() => Promise.all(pods.map((pod) => pod.stop())));
});

/** Keys a client can send: any well-formed Unicode (every plane, spaces, '+', '%', '&', '/'), 1 to 2048 UTF-8 bytes. */
const keys = fc
  .oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.string({ unit: fc.constantFrom(' ', '+', '%', '&', '=', '/', '?', '#', 'é', '🔑'), minLength: 1, maxLength: 20 }))
  .filter((key) => Buffer.byteLength(key) <= 2048);

it('any key, asked through any pod, one at a time or many at once, gets its own value', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(keys, { minLength: 1, maxLength: 12 }), fc.nat(2), async (batch, first) => {
      // Asked together through one pod, the keys owned elsewhere travel as a batch; one alone as a GET.
      const answers = await Promise.all(batch.map((key, i) => pods[(first + i) % 3]!.get(`/api?group=any&key=${encodeURIComponent(key)}`)));
      answers.forEach((answer, i) => assert.deepEqual(answer, { status: 200, body: JSON.stringify({ key: batch[i] }) }, JSON.stringify(batch[i])));
    }),
    { numRuns: 150 },
  );
});
