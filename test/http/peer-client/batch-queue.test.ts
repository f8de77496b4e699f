// batch-queue.test.ts: which keys go as one batch and which alone, through a client and a real server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPeerClient } from '../../../src/http/peer-client.js';
import { encodeGetResponse } from '../../../src/protocol/get.js';
import { serve } from '../../support/serve.js';

/** A peer that answers single GETs with the key and refuses batches, as a pod without batches did. */
async function peerWithoutBatches() {
  return serve((req, res) => {
    if (req.method === 'POST') return void res.writeHead(405, { allow: 'GET' }).end('only GET\n');
    res.writeHead(200).end(encodeGetResponse(Buffer.from(decodeURIComponent(req.url!.split('/').pop()!))));
  });
}

test('keys asked in one turn go as one batch, a key alone as a GET; a peer that refuses batches gets GETs from then on', async () => {
  const peer = await peerWithoutBatches();
  const traffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
  const client = new HttpPeerClient({ url: peer.url, traffic });
  after(() => client.close());
  assert.equal(Buffer.from((await client.get('g', 'alone')).value).toString(), 'alone');
  const values = await Promise.all(['a', 'b', 'c'].map((key) => client.get('g', key)));
  assert.deepEqual(values.map((v) => Buffer.from(v.value).toString()), ['a', 'b', 'c'], 'the refused batch fell back to single GETs');
  await Promise.all(['d', 'e'].map((key) => client.get('g', key)));
  assert.deepEqual(traffic, { gets: 6, batches: 1, batchedKeys: 3, circuitTrips: 0 });
  assert.deepEqual(peer.requests.map((r) => r.split(' ')[0]), ['GET', 'POST', 'GET', 'GET', 'GET', 'GET', 'GET']);
});

test('keys of different groups asked in one turn go in one batch per group', async () => {
  const peer = await peerWithoutBatches();
  const client = new HttpPeerClient({ url: peer.url });
  after(() => client.close());
  await Promise.all([client.get('g1', 'a'), client.get('g1', 'b'), client.get('g2', 'c'), client.get('g2', 'd')]);
  assert.deepEqual(peer.requests.filter((r) => r.startsWith('POST')).sort(), ['POST /_geecache/g1/', 'POST /_geecache/g2/']);
});
