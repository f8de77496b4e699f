// exchange.test.ts: the deadline, connection slots and circuit breaker of a peer client's requests, against real servers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPeerClient } from '../../../src/http/peer-client.js';
import { encodeGetResponse } from '../../../src/protocol/get.js';
import { PeerUnavailableError } from '../../../src/errors.js';
import { serve } from '../../support/serve.js';

/** A server that accepts connections and reads requests, and never answers one. */
async function hungPeer(): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const peer = await serve(() => void requests++);
  return { url: peer.url, requests: () => requests };
}

test('a silent peer: every request, queued ones included, fails as timed out; then the circuit opens and no request goes', async () => {
  const peer = await hungPeer();
  let clock = 0;
  const traffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
  const client = new HttpPeerClient({ url: peer.url, timeoutMs: 150, connections: 2, batch: false, traffic, now: () => clock, circuit: { failures: 3, openMs: 1000 } });
  after(() => client.destroy());
  // Ten at once over two connections: eight wait for a slot, and their deadline runs while they wait.
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => client.get('g', `k${i}`)));
  for (const result of results) {
    assert.ok(result.status === 'rejected' && result.reason instanceof PeerUnavailableError && /timed out after 150 ms/.test(result.reason.message), String(result.status === 'rejected' && result.reason));
  }
  assert.equal(peer.requests(), 2, 'the queued requests never reached the peer');
  assert.equal(client.circuit, 'open');
  assert.equal(traffic.circuitTrips, 1);
  // Open: the caller falls back at once, and the peer is not asked.
  await assert.rejects(client.get('g', 'again'), (e: unknown) => e instanceof PeerUnavailableError && /circuit open/.test(e.message));
  assert.equal(peer.requests(), 2);
  // After the open time one probe goes; silence again keeps the circuit open for twice as long.
  clock += 1000;
  const probe = client.get('g', 'probe');
  await assert.rejects(client.get('g', 'while probing'), /circuit open/);
  await assert.rejects(probe, /timed out/);
  assert.equal(client.circuit, 'open');
  assert.equal(traffic.circuitTrips, 2);
  clock += 1000;
  await assert.rejects(client.get('g', 'still open'), /circuit open/, 'the second open period is 2000 ms');
});

test('a probe that is answered closes the circuit', async () => {
  let answering = false;
  let requests = 0;
  const peer = await serve((_req, res) => {
    requests++;
    if (answering) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeGetResponse(Buffer.from('back')));
  });
  let clock = 0;
  const client = new HttpPeerClient({ url: peer.url, timeoutMs: 100, batch: false, now: () => clock, circuit: { failures: 2, openMs: 500 } });
  after(() => client.destroy());
  await Promise.allSettled([client.get('g', 'a'), client.get('g', 'b')]);
  assert.equal(client.circuit, 'open');
  answering = true;
  await assert.rejects(client.get('g', 'c'), /circuit open/);
  clock += 500;
  assert.equal(Buffer.from((await client.get('g', 'd')).value).toString(), 'back');
  assert.equal(client.circuit, 'closed');
  assert.equal(Buffer.from((await client.get('g', 'e')).value).toString(), 'back');
  assert.equal(requests, 4, 'a, b, the probe d, then e');
});

test("an owner without heartbeats (a Go peer) that takes longer than the timeout is unavailable; the client asked for heartbeats", async () => {
  const headers: Array<string | undefined> = [];
  const peer = await serve((req, res) => {
    headers.push(req.headers['geecache-heartbeat-ms'] as string | undefined);
    setTimeout(() => res.writeHead(200).end(encodeGetResponse(Buffer.from('late'))), 400);
  });
  const client = new HttpPeerClient({ url: peer.url, timeoutMs: 150, batch: false });
  after(() => client.destroy());
  await assert.rejects(client.get('g', 'k'), /timed out after 150 ms/);
  assert.deepEqual(headers, ['50']);
});
