// peer-tls.test.ts runs a ring of two real processes over mutual TLS (certificates made here with openssl): the ring
// answers through either pod, a client without the ring's certificate reads, peeks and hands over nothing, and
// changed files reach new connections without a restart.
import { it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { metricValue, type CacheProcess } from '../../harness/cache-process.js';
import { startLoopbackRing } from '../../harness/loopback-ring.js';
import { certificateScratch, issueCertificate, makeCa, readCertificateDir } from '../../harness/peer-certificates.js';
import { waitFor } from '../../harness/wait.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE, HANDOFF_SENDER_HEADER } from '../../src/protocol/handoff.js';

const scratch = certificateScratch();
after(() => scratch.remove());
const ringCa = makeCa(scratch.path, 'ring-ca');
const otherCa = makeCa(scratch.path, 'other-ca');
// Both pods read one directory, as pods mounting one Secret do.
const podDir = issueCertificate(ringCa, join(scratch.path, 'pods'), 'geecache-peer');
const memberDir = issueCertificate(ringCa, join(scratch.path, 'member'), 'geecache-peer');
// A stranger that trusts the ring's CA, so only its own certificate is in question.
const strangerDir = issueCertificate(otherCa, join(scratch.path, 'stranger'), 'geecache-peer', [ringCa]);

let pods: CacheProcess[] = [];
/** Each pod's peer base URL, https://127.0.0.1:<port>. */
let selves: string[] = [];

const origin = createServer((req, res) => res.end(`origin:${decodeURIComponent((req.url ?? '/').slice(1))}`));

before(async () => {
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const groups = `pages:16MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  pods = await startLoopbackRing(2, { GEECACHE_PEER_TLS_DIR: podDir, GEECACHE_GROUPS: groups }, 'https');
  selves = await Promise.all(pods.map(async (pod) => (JSON.parse((await pod.get('/debug/ring')).body) as { self: string }).self));
});
after(async () => {
  await Promise.all(pods.map((pod) => pod.stop()));
  origin.close();
});

interface Answer {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  server: string;
}

/** One request on a fresh connection to a peer port, as a TLS client with `dir`'s certificate (or none); rejects when refused. */
function peerRequest(url: string, dir: string | undefined, method = 'GET', headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  const own = dir === undefined ? { ca: readCertificateDir(podDir).ca } : readCertificateDir(dir);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, agent: false, timeout: 3000, ...own, checkServerIdentity: () => undefined }, (res) => {
      const server = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text, server }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject).end(body);
  });
}

it('a two-pod ring over mutual TLS answers every key through either pod, the other pod\'s keys by a peer hop', async () => {
  for (let i = 0; i < 20; i++) {
    for (const pod of pods) {
      const answer = await pod.get(`/api?key=k${i}`);
      assert.deepEqual(answer, { status: 200, body: `origin:k${i}` }, `${pod.name} k${i}\n${pod.describe()}`);
    }
  }
  for (const pod of pods) {
    const metrics = (await pod.get('/metrics')).body;
    assert.ok((metricValue(metrics, 'geecache_peer_loads_total') ?? 0) > 0, `${pod.name} fetched from its peer\n${pod.describe()}`);
    assert.equal(metricValue(metrics, 'geecache_peer_request_duration_seconds_count', { outcome: 'error' }) ?? 0, 0, `${pod.name}: no peer request failed`);
  }
});

it('a member\'s certificate reads the peer port; one from another CA, none, or plain HTTP cannot read, peek or hand over', async () => {
  const [url] = selves;
  assert.equal((await peerRequest(`${url}/_geecache/pages/Tom`, memberDir)).status, 200, 'a certificate from the ring\'s CA');
  const handoff = encodeHandoff([{ key: 'Tom', value: Buffer.from('PLANTED'), expiresAt: 0 }]);
  const attempts: Array<[string, string, Record<string, string>, Buffer?]> = [
    ['GET', '/_geecache/pages/Tom', {}],
    ['GET', '/_geecache/~peek/pages/Tom', {}],
    ['POST', '/_geecache/~handoff/pages/', { 'content-type': HANDOFF_CONTENT_TYPE, [HANDOFF_SENDER_HEADER]: selves[1]! }, handoff],
  ];
  for (const [method, path, headers, body] of attempts) {
    for (const [who, dir] of [['another CA', strangerDir], ['no certificate', undefined]] as const) {
      await assert.rejects(peerRequest(url + path, dir, method, headers, body), `${method} ${path} with ${who} was answered`);
    }
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest(url!.replace('https:', 'http:') + path, { method, agent: false, timeout: 3000 }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', (err) => resolve(`refused: ${err.message}`)).end(body);
    });
    assert.match(plain, /^refused/, `${method} ${path} over plain HTTP`);
  }
  for (const pod of pods) assert.equal((await pod.get('/api?key=Tom')).body, 'origin:Tom');
});

it('rotation: new files reach the next new connection of the peer port, and the pods keep talking, without a restart', async () => {
  const before = (await peerRequest(`${selves[0]}/_geecache/pages/Tom`, memberDir)).server;
  issueCertificate(ringCa, podDir, 'geecache-peer');
  // The files are read again every 2 s.
  await waitFor(async () => (await peerRequest(`${selves[0]}/_geecache/pages/Tom`, memberDir)).server !== before, 10_000, pods[0]!.describe());
  await waitFor(async () => (await peerRequest(`${selves[1]}/_geecache/pages/Tom`, memberDir)).server !== before, 10_000, pods[1]!.describe());
  for (const pod of pods) {
    for (let i = 100; i < 110; i++) assert.equal((await pod.get(`/api?key=k${i}`)).status, 200);
    const metrics = (await pod.get('/metrics')).body;
    assert.equal(metricValue(metrics, 'geecache_peer_request_duration_seconds_count', { outcome: 'error' }) ?? 0, 0, `${pod.name}\n${pod.describe()}`);
  }
});
