import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpOriginSource } from '../../src/sources/http-origin.js';
import { NotFoundError, SourceError } from '../../src/errors.js';
import { ByteView } from '../../src/engine/byteview.js';
import { Group } from '../../src/engine/group.js';

const seen: string[] = [];
const origin = createServer((req, res) => {
  seen.push(req.url!);
  const key = decodeURIComponent(req.url!.split('/').pop()!);
  if (key === 'slow') return void setTimeout(() => res.end('late'), 1000);
  if (key === 'trickle') {
    // Each chunk comes well within undici's per-phase timeout; the whole body does not come within the deadline.
    res.writeHead(200);
    const timer = setInterval(() => res.write('.'), 40);
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (key === 'missing') return void res.writeHead(404).end('nope');
  if (key === 'broken') return void res.writeHead(500).end('database on fire');
  if (key.startsWith('cc:')) return void res.writeHead(200, { 'cache-control': key.slice(3) }).end(key);
  res.end(`value of ${key}`);
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
after(() => {
  origin.closeAllConnections();
  origin.close();
});

test('200 is the value; the key is percent-encoded under the origin path', async () => {
  const source = httpOriginSource({ origin: `${base}/values/` });
  after(() => source.close());
  const value = await source.getter('a b/c');
  assert.ok(value instanceof ByteView);
  assert.equal(value.toString(), 'value of a b/c');
  assert.equal(seen.at(-1), '/values/a%20b%2Fc');
});

test('404 is not-found; other statuses and timeouts are source errors with a message', async () => {
  const source = httpOriginSource({ origin: base, timeoutMs: 150 });
  after(() => source.close());
  await assert.rejects(source.getter('missing'), (e: unknown) => e instanceof NotFoundError && e.message === 'missing not exist');
  await assert.rejects(source.getter('broken'), (e: unknown) => e instanceof SourceError && /answered 500.*database on fire/.test(e.message));
  await assert.rejects(source.getter('slow'), (e: unknown) => e instanceof SourceError && /timed out after 150 ms/.test(e.message));
});

test('a body trickling in past the deadline is a source error that says the whole request timed out', async () => {
  const source = httpOriginSource({ origin: base, timeoutMs: 150 });
  after(() => source.destroy());
  await assert.rejects(source.getter('trickle'), (e: unknown) => e instanceof SourceError && /timed out after 150 ms .*\(the whole request\)/.test(e.message));
});

test('a lookup leaves no timer behind once answered: its deadline is cleared, not left to run out', async () => {
  const source = httpOriginSource({ origin: base, timeoutMs: 60_000 });
  after(() => source.close());
  await source.getter('warm'); // the connection and undici's own timers exist from here on
  const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
  const before = timers();
  for (let i = 0; i < 20; i++) await source.getter(`k${i}`);
  assert.equal(timers(), before, 'one 60 s deadline per lookup would still be pending');
});

test('an origin that refuses connections is a source error', async () => {
  const source = httpOriginSource({ origin: 'http://127.0.0.1:1', timeoutMs: 500 });
  after(() => source.close());
  await assert.rejects(source.getter('k'), (e: unknown) => e instanceof SourceError && /ECONNREFUSED/.test(e.message));
});

test("the origin's Cache-Control sets the expiry, capped by the group's TTL; no-store answers reach the caller and are not cached", async () => {
  const source = httpOriginSource({ origin: base });
  after(() => source.close());
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, ttlMs: 30_000, getter: source.getter });
  const asked = Date.now();
  const short = await group.get('cc:max-age=10');
  assert.ok(short.expiresAt >= asked + 10_000 && short.expiresAt <= Date.now() + 10_000, `max-age=10: ${short.expiresAt - asked} ms`);
  const capped = await group.get('cc:max-age=3600');
  assert.ok(capped.expiresAt <= Date.now() + 30_000, `capped by the TTL: ${capped.expiresAt - asked} ms`);
  const before = seen.length;
  assert.equal((await group.get('cc:no-store')).toString(), 'cc:no-store');
  assert.equal((await group.get('cc:no-store')).toString(), 'cc:no-store');
  assert.equal(seen.length - before, 2, 'no-store: every get goes to the origin');
  assert.equal(group.mainCache.peek('cc:no-store'), undefined);
  await group.get('cc:max-age=10');
  assert.equal(seen.length - before, 2, 'max-age=10 is served from the cache');
});
