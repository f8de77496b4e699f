import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { clientGone, ClientGoneError } from '../../src/http/cached-or-load.js';
import { serve } from '../support/serve.js';

/** Sends one GET and resolves with what the handler reported; `hangUp` closes the socket before any answer. */
function ask(url: string, hangUp: boolean): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, (res) => res.resume().on('end', resolve));
    req.on('error', () => resolve());
    req.end();
    if (hangUp) setTimeout(() => req.destroy(), 50);
  });
}

test("a response's signal is shared by its keys, takes any number of listeners without a warning, and aborts only when the client left", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const seen: { signal: AbortSignal; finished: Promise<void> }[] = [];
  const server = await serve((req, res) => {
    const signal = clientGone(res);
    // What the keys of a multi-get do: each waits on the response's one signal.
    for (let key = 0; key < 20; key++) {
      assert.equal(clientGone(res), signal, 'one signal per response');
      signal.addEventListener('abort', () => undefined);
    }
    const finished = new Promise<void>((resolve) => res.on('close', () => setImmediate(resolve)));
    seen.push({ signal, finished });
    if (req.url === '/answer') res.end('v');
  });
  await ask(`${server.url}/answer`, false);
  await ask(`${server.url}/hang-up`, true);
  await Promise.all(seen.map((one) => one.finished));
  process.off('warning', onWarning);
  assert.deepEqual(warnings, []);
  const [answered, left] = seen;
  assert.equal(answered!.signal.aborted, false);
  assert.equal(left!.signal.aborted, true);
  assert.ok(left!.signal.reason instanceof ClientGoneError);
});
