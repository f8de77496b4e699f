// single-get.test.ts: one key by groupcache's GET, against real servers on loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPeerClient } from '../../../src/http/peer-client.js';
import { encodeGetResponse } from '../../../src/protocol/get.js';
import { BodyTooLargeError, PeerUnavailableError } from '../../../src/errors.js';
import { serve } from '../../support/serve.js';

test('decodes a GetResponse and reuses one keep-alive connection', async () => {
  const paths: string[] = [];
  const peer = await serve((req, res) => {
    paths.push(req.url!);
    const body = encodeGetResponse(Buffer.from('630'));
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(body);
  });
  const client = new HttpPeerClient({ url: peer.url, connections: 1 });
  after(() => client.close());
  for (let i = 0; i < 5; i++) assert.equal(Buffer.from((await client.get('scores', 'a b/c')).value).toString(), '630');
  assert.equal(paths[0], '/_geecache/scores/a%20b%2Fc');
  assert.equal(peer.connections(), 1);
});

test('a refused connection is PeerUnavailableError', async () => {
  const peer = await serve((_req, res) => res.end());
  const port = Number(new URL(peer.url).port);
  const client = new HttpPeerClient({ url: `http://127.0.0.1:${port === 1 ? 2 : 1}`, timeoutMs: 500 });
  after(() => client.close());
  await assert.rejects(client.get('g', 'k'), (e: unknown) => e instanceof PeerUnavailableError && /ECONNREFUSED/.test(e.message));
});

test('a peer that stalls after the headers times out', async () => {
  const peer = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.write(Buffer.from([0x0a])); // then never finishes the body
  });
  const client = new HttpPeerClient({ url: peer.url, timeoutMs: 150 });
  after(() => client.destroy());
  await assert.rejects(client.get('g', 'k'), (e: unknown) => e instanceof PeerUnavailableError && /timed out/.test(e.message));
});

test('a malformed body is PeerUnavailableError, not a crash', async () => {
  const peer = await serve((_req, res) => res.writeHead(200).end(Buffer.from([0x0a, 99, 1])));
  const client = new HttpPeerClient({ url: peer.url });
  after(() => client.close());
  await assert.rejects(client.get('g', 'k'), PeerUnavailableError);
});

test('a 200 without a value (an empty body, or protobuf without field 1) is PeerUnavailableError, never an empty value', async () => {
  for (const body of [Buffer.alloc(0), Buffer.from([0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f])]) {
    const peer = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(body));
    const client = new HttpPeerClient({ url: peer.url });
    after(() => client.close());
    await assert.rejects(client.get('g', 'k'), (e: unknown) => e instanceof PeerUnavailableError && /malformed/.test(e.message), `body ${body.toString('hex')}`);
  }
});

test('a body past maxResponseBytes is cut off and unavailable, with the one too-large message', async () => {
  const peer = await serve((_req, res) => res.writeHead(200).end(encodeGetResponse(Buffer.alloc(2000, 1))));
  const client = new HttpPeerClient({ url: peer.url, maxResponseBytes: 1000, batch: false });
  after(() => client.close());
  await assert.rejects(client.get('g', 'k'), (e: unknown) => e instanceof PeerUnavailableError && e.cause instanceof BodyTooLargeError && /response larger than 1000 bytes/.test(e.message));
});
