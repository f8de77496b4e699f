import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameStream } from '../../src/http/frame-stream.js';
import { FrameReader } from '../../src/protocol/batch.js';

/** A server whose one answer is written by `answer`; resolves with its URL. */
async function serve(answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test('values past the byte budget are answered 507; every frame arrives once and in order', async () => {
  const value = Buffer.alloc(1000, 1);
  const url = await serve((res) => {
    const stream = new FrameStream(res, { maxValueBytes: 2500, stallTimeoutMs: 5000 });
    stream.start(['content-type', 'x'], false);
    for (let i = 0; i < 4; i++) stream.value(i, value, undefined);
    stream.end();
  });
  const frames = await new Promise<Array<[number, number]>>((resolve, reject) => {
    request(url, (res) => {
      const reader = new FrameReader();
      const seen: Array<[number, number]> = [];
      res.on('data', (chunk: Buffer) => seen.push(...reader.push(chunk).map((frame): [number, number] => [frame.index, frame.status])));
      res.on('end', () => resolve(seen));
    })
      .on('error', reject)
      .end();
  });
  assert.deepEqual(frames, [
    [0, 200],
    [1, 200],
    [2, 507],
    [3, 507],
  ]);
});

test('a client that stops reading: frames wait for drain, and the response is destroyed after the stall timeout', async () => {
  let stream!: FrameStream;
  let closed!: () => void;
  const closedAt = new Promise<void>((resolve) => (closed = resolve));
  const value = Buffer.alloc(1024 * 1024, 2);
  const url = await serve((res) => {
    stream = new FrameStream(res, { maxValueBytes: 64 * 1024 * 1024, stallTimeoutMs: 300 });
    stream.start(['content-type', 'x'], false);
    for (let i = 0; i < 32; i++) stream.value(i, value, undefined);
    res.once('close', closed);
  });
  const req = request(url, (res) => res.pause());
  req.on('error', () => undefined);
  req.end();
  await closedAt;
  assert.equal(stream.stalled, true);
  req.destroy();
});
