import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressMessageClasses } from '../../src/http/message-classes.js';

test('requests and responses keep the prototype they were created with, through Express and around it', async () => {
  const app = express();
  app.set('x-powered-by', false);
  app.get('/express', (req, res) => {
    // Express's own request and response API still works on the subclassed objects.
    res.type('text/plain').send(`q=${String(req.query.q)} path=${req.path}`);
  });
  const classes = expressMessageClasses(app);
  const seen: { path: string; before: [object | null, object | null]; after: [object | null, object | null] }[] = [];
  const server = createServer({ ...classes }, (req, res) => {
    const before: [object | null, object | null] = [Object.getPrototypeOf(req), Object.getPrototypeOf(res)];
    res.on('finish', () => seen.push({ path: req.url!, before, after: [Object.getPrototypeOf(req), Object.getPrototypeOf(res)] }));
    if (req.url === '/fast') {
      res.writeHead(200, ['content-type', 'text/plain']);
      res.end('fast');
    } else app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal(await (await fetch(`${base}/fast`)).text(), 'fast');
    const viaExpress = await fetch(`${base}/express?q=7`);
    assert.equal(viaExpress.status, 200);
    assert.equal(await viaExpress.text(), 'q=7 path=/express');
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);

    assert.equal(seen.length, 3);
    for (const { path, before, after } of seen) {
      assert.equal(before[0], app.request, `${path}: request born with Express's prototype`);
      assert.equal(before[1], app.response, `${path}: response born with Express's prototype`);
      assert.deepEqual(after, before, `${path}: Express did not re-parent`);
    }
    assert.ok(app.request instanceof IncomingMessage);
    assert.ok(app.response instanceof ServerResponse);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
