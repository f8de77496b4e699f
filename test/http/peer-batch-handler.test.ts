import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerHandler } from '../../src/http/peer-handler.js';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { NotFoundError, PeerUnavailableError, SourceError } from '../../src/errors.js';
import { BATCH_CONTENT_TYPE, encodeFrame, encodeKeys, FrameReader } from '../../src/protocol/batch.js';
import { encodeGetResponse, parsePeerPath } from '../../src/protocol/get.js';
import { serve } from '../support/serve.js';

/** A real peer: our peer handler over a group whose source knows "v-*" keys, fails "bad-*" and is slow for "slow-*". */
async function peer(ttlMs = 0): Promise<{ url: string; requests: string[] }> {
  const groups = new GroupRegistry();
  groups.create({
    name: 'scores',
    cacheBytes: 1 << 20,
    ttlMs,
    getter: async (key) => {
      if (key.startsWith('slow-')) await new Promise((resolve) => setTimeout(resolve, 300));
      if (key.startsWith('bad-')) throw new Error('source down');
      if (!key.startsWith('v-') && !key.startsWith('slow-')) throw new NotFoundError(`no ${key}`);
      return `value of ${key}`;
    },
  });
  return serve(createPeerHandler({ groups, basePath: '/_geecache/' }));
}

test('keys asked for in one turn go to the owner as one batch; each gets its own answer', async () => {
  const owner = await peer();
  const traffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
  const client = new HttpPeerClient({ url: owner.url, traffic });
  after(() => client.close());
  const keys = Array.from({ length: 40 }, (_, i) => `v-${i}`);
  const answers = await Promise.all(keys.map((key) => client.get('scores', key)));
  assert.deepEqual(answers.map((answer) => Buffer.from(answer.value).toString()), keys.map((key) => `value of ${key}`));
  assert.deepEqual(owner.requests, ['POST /_geecache/scores/']);

  // Now cached on the owner: the same batch again is answered in one body.
  await Promise.all(keys.map((key) => client.get('scores', key)));
  assert.equal(owner.requests.length, 2);

  const mixed = await Promise.allSettled([client.get('scores', 'v-1'), client.get('scores', 'nope'), client.get('scores', 'bad-1')]);
  assert.equal(mixed[0].status === 'fulfilled' && Buffer.from(mixed[0].value.value).toString(), 'value of v-1');
  assert.ok(mixed[1].status === 'rejected' && mixed[1].reason instanceof NotFoundError && mixed[1].reason.message === 'no nope');
  assert.ok(mixed[2].status === 'rejected' && mixed[2].reason instanceof SourceError && mixed[2].reason.status === 502);
  assert.equal(owner.requests.length, 3);

  // A key asked for alone is a plain GET, as groupcache sends it.
  await client.get('scores', 'v-99');
  assert.equal(owner.requests.at(-1), 'GET /_geecache/scores/v-99');
  assert.deepEqual(traffic, { gets: 1, batches: 3, batchedKeys: 83, circuitTrips: 0 });
});

test('a slow key does not hold back the rest of its batch', async () => {
  const owner = await peer();
  const client = new HttpPeerClient({ url: owner.url });
  after(() => client.close());
  const started = performance.now();
  let slowDone = false;
  const slow = client.get('scores', 'slow-1').then((bytes) => {
    slowDone = true;
    return bytes;
  });
  const fast = await Promise.all(['v-a', 'v-b', 'v-c'].map((key) => client.get('scores', key)));
  assert.equal(slowDone, false, 'the fast keys arrived before the slow one');
  assert.equal(Buffer.from(fast[2]!.value).toString(), 'value of v-c');
  assert.equal(Buffer.from((await slow).value).toString(), 'value of slow-1');
  assert.ok(performance.now() - started >= 250);
  assert.equal(owner.requests.length, 1);
});

test('a peer that does not answer batches gets single GETs, then only single GETs', async () => {
  // An older peer: GET only, 405 for anything else.
  const old = await serve((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    const parsed = parsePeerPath('/_geecache/', req.url!);
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeGetResponse(Buffer.from(parsed.ok ? parsed.key : '?')));
  });
  const client = new HttpPeerClient({ url: old.url });
  after(() => client.close());
  const first = await Promise.all(['a', 'b', 'c'].map((key) => client.get('g', key)));
  assert.deepEqual(first.map((answer) => Buffer.from(answer.value).toString()), ['a', 'b', 'c']);
  assert.equal(old.requests[0], 'POST /_geecache/g/');
  assert.deepEqual(old.requests.slice(1).sort(), ['GET /_geecache/g/a', 'GET /_geecache/g/b', 'GET /_geecache/g/c']);
  await Promise.all(['d', 'e'].map((key) => client.get('g', key)));
  assert.deepEqual(old.requests.slice(4).sort(), ['GET /_geecache/g/d', 'GET /_geecache/g/e']);
});

test("the owner's expiry reaches the client in batches and single GETs; a client that does not ask for it gets bare values", async () => {
  const owner = await peer(60_000);
  const client = new HttpPeerClient({ url: owner.url });
  after(() => client.close());
  const asked = Date.now();
  const loaded = await Promise.all(['v-a', 'v-b'].map((key) => client.get('scores', key)));
  const cached = await Promise.all(['v-a', 'v-b'].map((key) => client.get('scores', key)));
  const single = await client.get('scores', 'v-c');
  const answered = Date.now();
  assert.deepEqual(owner.requests, ['POST /_geecache/scores/', 'POST /_geecache/scores/', 'GET /_geecache/scores/v-c']);
  for (const answer of [...loaded, ...cached, single]) {
    assert.ok(answer.expiresAt >= asked + 60_000 && answer.expiresAt <= answered + 60_000, `expiry ${answer.expiresAt - asked} ms ahead`);
  }
  assert.deepEqual(cached.map((answer) => answer.expiresAt), loaded.map((answer) => answer.expiresAt), 'a cached value keeps its expiry');
  for (const answer of [...loaded, ...cached, single]) assert.ok(answer.minuteQps !== undefined && answer.minuteQps >= 1, `the owner's rate comes along: ${answer.minuteQps}`);
  assert.equal(Buffer.from(loaded[0]!.value).toString(), 'value of v-a');

  const old = await fetch(`${owner.url}/_geecache/scores/`, { method: 'POST', body: encodeKeys(['v-a']), headers: { 'content-type': BATCH_CONTENT_TYPE } });
  assert.equal(old.headers.get('geecache-frame-meta'), null);
  const frames = new FrameReader().push(Buffer.from(await old.arrayBuffer()));
  assert.equal(frames[0]!.bytes.toString(), 'value of v-a', 'no expiry bytes for a client that did not ask');
});

test('bad batches are refused with 4xx and a message', async () => {
  const owner = await peer();
  const post = (path: string, body: Uint8Array) => fetch(owner.url + path, { method: 'POST', body, signal: AbortSignal.timeout(5000) });
  const truncated = await post('/_geecache/scores/', Buffer.from([5, 0, 0, 0, 97]));
  assert.equal(truncated.status, 400);
  assert.match(await truncated.text(), /truncated key/);
  const unknown = await post('/_geecache/nope/', Buffer.alloc(0));
  assert.equal(unknown.status, 404);
  const notBatch = await post('/_geecache/scores/k', Buffer.alloc(0));
  assert.equal(notBatch.status, 400);
  const huge = await post('/_geecache/scores/', Buffer.alloc(2 * 1024 * 1024));
  assert.equal(huge.status, 413);
});

test('a peer that dies in the middle of a batch: answered keys keep their values, the rest fail as unavailable', async () => {
  const dying = await serve((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': BATCH_CONTENT_TYPE });
      res.write(encodeFrame(1, 200, Buffer.from('second')));
      setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  const client = new HttpPeerClient({ url: dying.url });
  after(() => client.destroy());
  const [first, second, third] = await Promise.allSettled(['a', 'b', 'c'].map((key) => client.get('g', key)));
  assert.ok(second!.status === 'fulfilled' && Buffer.from(second!.value.value).toString() === 'second');
  for (const lost of [first!, third!]) assert.ok(lost.status === 'rejected' && lost.reason instanceof PeerUnavailableError, String(lost.status));
});

test('keys still queued when the client closes fail as unavailable instead of hanging', async () => {
  const owner = await peer();
  const client = new HttpPeerClient({ url: owner.url });
  const pending = ['v-1', 'v-2'].map((key) => client.get('scores', key));
  await client.close();
  for (const outcome of await Promise.allSettled(pending)) {
    assert.ok(outcome.status === 'rejected' && outcome.reason instanceof PeerUnavailableError, String(outcome.status));
  }
  assert.deepEqual(owner.requests, []);
});

/** A real owner whose group "slow" takes `latencyMs` for every load; `loads()` counts them. */
async function slowOwner(latencyMs: number): Promise<{ url: string; requests: string[]; loads: () => number }> {
  let loads = 0;
  const groups = new GroupRegistry();
  groups.create({
    name: 'slow',
    cacheBytes: 1 << 20,
    getter: async (key) => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return `slow ${key}`;
    },
  });
  return { ...(await serve(createPeerHandler({ groups, basePath: '/_geecache/' }))), loads: () => loads };
}

test('an owner that loads slower than the timeout sends heartbeats: GET and batch wait, and the source loads once', async () => {
  const owner = await slowOwner(500);
  const client = new HttpPeerClient({ url: owner.url, timeoutMs: 150 });
  after(() => client.close());
  // One key alone: a GET, kept alive by 102 Processing.
  assert.equal(Buffer.from((await client.get('slow', 'one')).value).toString(), 'slow one');
  // Three at once: a batch, kept alive by heartbeat frames.
  const many = await Promise.all(['a', 'b', 'c'].map((key) => client.get('slow', key)));
  assert.deepEqual(many.map((answer) => Buffer.from(answer.value).toString()), ['slow a', 'slow b', 'slow c']);
  assert.deepEqual(owner.requests, ['GET /_geecache/slow/one', 'POST /_geecache/slow/']);
  assert.equal(owner.loads(), 4, 'each key loaded once, by the owner');
  assert.equal(client.circuit, 'closed');
});

test('requests waiting for a connection to a busy owner wait on while it sends heartbeats: no fallback, one load each', async () => {
  const owner = await slowOwner(400);
  // Two connections for six keys: four wait for a slot longer than the 150 ms timeout.
  const client = new HttpPeerClient({ url: owner.url, timeoutMs: 150, connections: 2, batch: false });
  after(() => client.close());
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const values = await Promise.all(keys.map((key) => client.get('slow', key)));
  assert.deepEqual(values.map((answer) => Buffer.from(answer.value).toString()), keys.map((key) => `slow ${key}`));
  assert.equal(owner.loads(), 6);
  assert.equal(client.circuit, 'closed');
});
