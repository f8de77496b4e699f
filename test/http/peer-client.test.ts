// peer-client.test.ts: the composed HttpPeerClient; its parts are tested in peer-client/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientClosedError, PeerUnavailableError } from '../../src/errors.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { encodeGetResponse } from '../../src/protocol/get.js';
import { serve } from '../support/serve.js';

test('after close() a get fails at once as unavailable and a peek finds nothing, without asking the peer', async () => {
  const peer = await serve((_req, res) => res.writeHead(200).end(encodeGetResponse(Buffer.from('v'))));
  const client = new HttpPeerClient({ url: peer.url });
  assert.equal(Buffer.from((await client.get('g', 'before')).value).toString(), 'v');
  const closed = client.close();
  assert.equal(client.close(), closed, 'close is idempotent');
  for (const batch of [false, true]) {
    const get = batch ? client.get('g', 'after') : client.get('g', 'after', { signal: AbortSignal.timeout(1000) });
    await assert.rejects(get, (e: unknown) => e instanceof PeerUnavailableError && e.cause instanceof ClientClosedError);
  }
  assert.equal(await client.peek('g', 'after'), undefined);
  await closed;
  assert.deepEqual(peer.requests, ['GET /_geecache/g/before']);
});
