// answers.test.ts tries issue 28's findings 3 and 4 on a real two-pod ring with a real origin: what a key
// becomes on the way to the origin, which keys are refused at every entry point, and what an error answer tells.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CacheProcess } from '../../harness/cache-process.js';
import { httpGet } from '../../harness/cache-process.js';
import { startLoopbackRing } from '../../harness/loopback-ring.js';

const SECRET_BODY = 'db 10.9.8.7:5432 password=hunter2';
const seen: string[] = [];
const pods: CacheProcess[] = [];
let originUrl = '';
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

before(async () => {
  const origin = createServer((req, res) => {
    seen.push(req.url!);
    if (req.url!.includes('broken')) return void res.writeHead(500).end(SECRET_BODY);
    res.end(`value:${req.url}`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => origin.close());
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/values`;
  pods.push(...(await startLoopbackRing(2, { GEECACHE_GROUPS: `pages:8MiB:${originUrl}` })));
  cleanups.push(() => Promise.all(pods.map((pod) => pod.stop())));
});

it('keys "." and ".." reach the origin percent-encoded, through the owner or not, never as a path segment it would resolve', async () => {
  for (const pod of pods) {
    for (const key of ['.', '..']) {
      const answer = await pod.get(`/api?group=pages&key=${encodeURIComponent(key)}`);
      assert.equal(answer.status, 200);
    }
  }
  assert.deepEqual([...new Set(seen)].sort(), ['/values/%2E', '/values/%2E%2E'], 'each key loaded once, by its owner, at an encoded path');
});

it('a key with a control character is refused with 400 on /api and on the peer port', async () => {
  for (const key of ['a\u0000b', 'line\nbreak', 'tab\t', 'del\u007f', 'c1\u0085']) {
    const api = await pods[0]!.get(`/api?group=pages&key=${encodeURIComponent(key)}`);
    assert.deepEqual([api.status, api.body], [400, 'key contains a control character\n'], JSON.stringify(key));
    const self = (JSON.parse((await pods[1]!.get('/debug/ring')).body) as { self: string }).self;
    const peer = await httpGet(`${self}/_geecache/pages/${encodeURIComponent(key)}`);
    assert.equal(peer.status, 400, JSON.stringify(key));
  }
  assert.ok(!seen.some((url) => /%0|%7F|%C2%85/i.test(url)), 'nothing reached the origin');
});

it("an origin's failure is answered with a status and a short message: no origin URL, address or body, through either pod", async () => {
  for (const pod of pods) {
    const answer = await pod.get(`/api?group=pages&key=broken-${pods.indexOf(pod)}`);
    assert.equal(answer.status, 502);
    assert.match(answer.body, /^the (origin answered 500|source failed)\n$/);
    for (const secret of ['10.9.8.7', 'hunter2', originUrl.slice(0, originUrl.lastIndexOf(':')), '127.0.0.1']) assert.ok(!answer.body.includes(secret), `${answer.body} names ${secret}`);
  }
});
