// responses.test.ts: the answers every server of ours writes, read back over a real loopback connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { ByteView } from '../../src/engine/byteview.js';
import { NotFoundError, SourceError } from '../../src/errors.js';
import { sendError, sendText, writeBytes, writeValue } from '../../src/http/responses.js';
import { serve } from '../support/serve.js';

test('a value goes with its type and exact length, small (as latin1 text) and large (as bytes); HEAD without the body', async () => {
  const values = new Map([
    ['/small', ByteView.copyOf(Buffer.from([0, 1, 200, 255]))],
    ['/large', ByteView.copyOf(Buffer.alloc(5000, 0xe9))],
  ]);
  const server = await serve((req, res) => writeValue(res, values.get(req.url!)!, 'application/octet-stream', req.method === 'HEAD'));
  const api = request(server.url);
  for (const [path, view] of values) {
    const res = await api.get(path).buffer(true).expect(200).expect('content-type', 'application/octet-stream');
    assert.deepEqual(res.body, Buffer.from(ByteView.bytesForWrite(view)), path);
    await api.head(path).expect(200).expect('content-length', String(view.byteLength));
  }
});

test('writeBytes counts a latin1 string by characters, one byte each', async () => {
  const server = await serve((_req, res) => writeBytes(res, 'caf\u00e9', 'application/octet-stream', false));
  const res = await request(server.url).get('/').buffer(true).expect(200).expect('content-length', '4');
  assert.deepEqual(res.body, Buffer.from([0x63, 0x61, 0x66, 0xe9]));
});

test('text answers are one line with a charset and the extra headers; errors get httpStatusOf status and message, never a stack', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/text') sendText(res, 413, 'too big', { connection: 'close' });
    else if (req.url === '/missing') sendError(res, new NotFoundError('k not exist'));
    else if (req.url === '/slow') sendError(res, new SourceError('origin timed out', { status: 504 }));
    else sendError(res, new Error('secret detail'));
  });
  const api = request(server.url);
  await api.get('/text').expect(413, 'too big\n').expect('content-type', 'text/plain; charset=utf-8').expect('connection', 'close');
  await api.get('/missing').expect(404, 'k not exist\n');
  await api.get('/slow').expect(504, 'origin timed out\n');
  await api.get('/bug').expect(500, 'internal error\n');
});

test('sendText after the headers went out cuts the connection instead of writing a second answer', async () => {
  const server = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '10' });
    res.write('part');
    sendText(res, 500, 'late error');
  });
  await assert.rejects(request(server.url).get('/'), /aborted|socket hang up|ECONNRESET/i);
});
