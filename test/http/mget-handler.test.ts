// mget-handler.test.ts: POST /api/mget answered by the handler alone on one pod: keys one a line or batch-encoded,
// a status per key, and the limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import request from 'supertest';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { createMgetHandler } from '../../src/http/mget-handler.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { BATCH_CONTENT_TYPE, encodeKeys, FrameReader } from '../../src/protocol/batch.js';
import { NotFoundError } from '../../src/errors.js';
import { serve } from '../support/serve.js';

async function mgetServer(limits: { maxKeys?: number; maxAnswerBytes?: number } = {}) {
  const groups = new GroupRegistry();
  groups.create({
    name: 'g',
    cacheBytes: 1 << 20,
    getter: async (key) => {
      if (key === 'missing') throw new NotFoundError('no such key');
      if (key === 'broken') throw new Error('the database is down');
      return key === 'bin' ? new Uint8Array([0, 10, 13, 255]) : `value of ${key}`;
    },
  });
  const ring = new PeerRing({ self: 'http://127.0.0.1:1', createClient: () => assert.fail('no peers') });
  const metrics = createMetrics(groups, ring, { defaultMetrics: false });
  const server = await serve(createMgetHandler({ groups, metrics, logger: pino({ level: 'silent' }), ...limits }));
  return { api: request(server.url), metrics };
}

/** The frames of an answer, by key index. */
function framesOf(body: Buffer): Map<number, { status: number; text: string; bytes: Buffer }> {
  const frames = new FrameReader().push(body);
  return new Map(frames.map((frame) => [frame.index, { status: frame.status, text: frame.bytes.toString(), bytes: frame.bytes }]));
}

const binary = (res: request.Response, done: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

test('keys one a line: each answered with its value or its own status', async () => {
  const { api, metrics } = await mgetServer();
  const res = await api.post('/api/mget?group=g').set('content-type', 'text/plain').send('Tom\r\nmissing\nbroken\nbin\n\n').buffer(true).parse(binary).expect(200).expect('content-type', BATCH_CONTENT_TYPE);
  const frames = framesOf(res.body as Buffer);
  assert.deepEqual(frames.get(0), { status: 200, text: 'value of Tom', bytes: Buffer.from('value of Tom') });
  assert.equal(frames.get(1)?.status, 404);
  assert.equal(frames.get(2)?.status, 502);
  assert.deepEqual([...frames.get(3)!.bytes], [0, 10, 13, 255]);
  assert.equal(frames.get(4)?.status, 400, 'an empty line is an empty key');
  // The same keys again are all hits, answered in one body with its length.
  const again = await api.post('/api/mget').send('Tom\nbin').buffer(true).parse(binary).expect(200).expect('content-length', String(12 + 12 + 12 + 4));
  assert.equal(framesOf(again.body as Buffer).size, 2);
  assert.match(await metrics.registry.metrics(), /geecache_mget_keys_total\{group="g",code="200"\} 4/);
});

test('a multi-get of many missing keys loads them all and warns of nothing: its keys share the response signal by design', async () => {
  const { api } = await mgetServer();
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const keys = Array.from({ length: 50 }, (_, i) => `many-${i}`);
    const res = await api.post('/api/mget?group=g').send(keys.join('\n')).buffer(true).parse(binary).expect(200);
    const frames = framesOf(res.body as Buffer);
    assert.deepEqual(keys.map((_, i) => frames.get(i)?.text), keys.map((key) => `value of ${key}`));
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
    assert.deepEqual(warnings.map((warning) => warning.message), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('keys may come in the batch encoding, spaces and all; a key with a control character is refused alone, as a single get refuses it', async () => {
  const { api } = await mgetServer();
  const res = await api.post('/api/mget?group=g').set('content-type', BATCH_CONTENT_TYPE).send(encodeKeys(['a\nb', 'é', ' c '])).buffer(true).parse(binary).expect(200);
  const frames = framesOf(res.body as Buffer);
  assert.equal(frames.get(0)?.status, 400);
  assert.equal(frames.get(0)?.text, 'key contains a control character');
  assert.equal(frames.get(1)?.text, 'value of é');
  assert.equal(frames.get(2)?.text, 'value of  c ');
});

test('past the key limit 413 before anything loads; past the answer bytes the rest is 413 key by key', async () => {
  const { api } = await mgetServer({ maxKeys: 3, maxAnswerBytes: 15 });
  await api.post('/api/mget').send('a\nb\nc\nd').expect(413, /more than 3 keys/);
  await api.post('/api/mget?key=a').send('a').expect(400, /keys go in the body/);
  await api.post('/api/mget?group=nope').send('a').expect(404);
  const res = await api.post('/api/mget').send('a\nbb\nc').buffer(true).parse(binary).expect(200);
  const statuses = [...framesOf(res.body as Buffer).values()].map((frame) => frame.status).sort();
  assert.deepEqual(statuses, [200, 413, 413], 'one value of 10 bytes fits in 15, the next two do not');
});
