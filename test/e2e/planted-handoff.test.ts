// planted-handoff.test.ts tries issue 28's first attack on real processes: in a stable ring, past the handoff
// window, a process at a member's address hands a value to the key's owner, as that member, with no peer token.
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeRing } from '../../harness/kube-ring.js';
import { sleep } from '../../harness/wait.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE, HANDOFF_SENDER_HEADER } from '../../src/protocol/handoff.js';

const [A, B] = ['127.0.0.41', '127.0.0.42'] as const;

/** POSTs a handoff from `from` (a loopback address), as a pod's sidecar or debug container could. */
function postHandoff(from: string, url: string, sender: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress: from, headers: { 'content-type': HANDOFF_CONTENT_TYPE, [HANDOFF_SENDER_HEADER]: sender, connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject).end(body);
  });
}

it('a member that is not leaving cannot plant a value in a stable ring: refused (409), counted, and the owner serves the origin value', async () => {
  const origin = createServer((req, res) => res.end(`origin:${decodeURIComponent((req.url ?? '/').slice(1))}`));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => origin.close(() => resolve())));
  const ring = await KubeRing.start({
    hosts: [A, B],
    env: { GEECACHE_GROUPS: `pages:16MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}`, GEECACHE_HANDOFF_WINDOW_MS: '1000' },
  });
  after(() => ring.close());
  const podA = await ring.add(A);
  const podB = await ring.add(B);
  await sleep(1200); // past the window the last membership change opened

  let key = '';
  for (let i = 0; !key; i++) {
    const view = JSON.parse((await podA.get(`/debug/ring?key=k${i}`)).body) as { owner: string };
    if (view.owner === ring.peerUrl(B)) key = `k${i}`;
  }
  const planted = await postHandoff(A, `http://${B}:${ring.peerPort}/_geecache/~handoff/pages/`, ring.peerUrl(A), encodeHandoff([{ key, value: Buffer.from('PLANTED'), expiresAt: 0 }]));
  assert.equal(planted.status, 409, planted.body);
  assert.match(planted.body, /still a member here/);
  const served = await podB.get(`/api?group=pages&key=${key}`);
  assert.deepEqual([served.status, served.body], [200, `origin:${key}`]);
  assert.match((await podB.get('/metrics')).body, /geecache_peer_requests_refused_total\{request="handoff",reason="not-leaving"\} 1/);
});
