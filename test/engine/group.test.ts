import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView } from '../../src/engine/byteview.js';
import { Group, MAX_KEY_BYTES } from '../../src/engine/group.js';
import { InvalidKeyError, NotFoundError, PeerRefusedError, PeerUnavailableError, SourceError } from '../../src/errors.js';
import type { PeerGetter, PeerPicker, PeerValue } from '../../src/engine/peers.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Every key is owned by one remote peer answering from `values`; counts calls. */
function remotePeer(behaviour: (key: string) => Promise<Uint8Array | PeerValue>): PeerPicker & { calls: string[] } {
  const calls: string[] = [];
  const getter: PeerGetter = {
    url: 'http://127.0.0.1:9',
    get: async (_group, key) => {
      calls.push(key);
      const answer = await behaviour(key);
      return answer instanceof Uint8Array ? { value: answer, expiresAt: 0 } : answer;
    },
  };
  return { calls, pickPeer: () => getter };
}

test('200 concurrent gets of one cold key call the getter exactly once', async () => {
  const gate = deferred<string>();
  let calls = 0;
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: () => (calls++, gate.promise) });
  const gets = Array.from({ length: 200 }, () => group.get('Tom'));
  gate.resolve('630');
  const values = await Promise.all(gets);
  assert.ok(values.every((v) => v.toString() === '630'));
  assert.equal(calls, 1);
  const stats = group.stats();
  assert.equal(stats.gets, 200);
  assert.equal(stats.loads, 200);
  // groupcache's meaning: the loads left after singleflight, here the one that ran.
  assert.equal(stats.loadsDeduped, 1);
  assert.equal(stats.localLoads, 1);
  // Now cached: no further load.
  assert.equal((await group.get('Tom')).toString(), '630');
  assert.equal(calls, 1);
  assert.equal(group.stats().mainHits, 1);
});

test("the getter's error reaches every waiter and is not cached", async () => {
  let calls = 0;
  const group = new Group({
    name: 'g',
    cacheBytes: 1000,
    getter: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (calls === 1) throw new Error('database down');
      return 'ok';
    },
  });
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => group.get('k')));
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof SourceError);
    assert.match(r.reason.message, /database down/);
  }
  assert.equal(calls, 1);
  assert.equal((await group.get('k')).toString(), 'ok');
  assert.equal(calls, 2);
  assert.equal(group.stats().localLoadErrors, 1);
});

test('not-found from the getter is a NotFoundError, distinct from a failure, and not cached', async () => {
  let calls = 0;
  const group = new Group({
    name: 'g',
    cacheBytes: 1000,
    getter: async (key) => {
      calls++;
      throw new NotFoundError(`${key} not exist`);
    },
  });
  await assert.rejects(group.get('kkk'), (e: unknown) => e instanceof NotFoundError && e.message === 'kkk not exist');
  await assert.rejects(group.get('kkk'), NotFoundError);
  assert.equal(calls, 2);
});

test('an empty key is an error and never reaches the getter', async () => {
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async () => assert.fail('getter called') });
  await assert.rejects(group.get(''), InvalidKeyError);
});

test('values from the owner are not put in the main cache; 1 in 10 is sampled into the hot cache', async () => {
  const peer = remotePeer(async (key) => Buffer.from(`v:${key}`));
  const randoms = [0.5, 0.05]; // first fetch not sampled, second sampled
  const group = new Group({
    name: 'g',
    cacheBytes: 10_000,
    getter: async () => assert.fail('no local load expected'),
    peers: peer,
    random: () => randoms.shift() ?? 0.5,
  });
  assert.equal((await group.get('a')).toString(), 'v:a');
  assert.equal((await group.get('a')).toString(), 'v:a'); // not sampled: fetched again
  assert.equal((await group.get('a')).toString(), 'v:a'); // sampled the time before: hot hit
  assert.deepEqual(peer.calls, ['a', 'a']);
  assert.equal(group.mainCache.items, 0);
  assert.equal(group.hotCache.items, 1);
  const stats = group.stats();
  assert.equal(stats.peerLoads, 2);
  assert.equal(stats.hotHits, 1);
});

test('with the hot cache off, values from the owner are never kept', async () => {
  const peer = remotePeer(async (key) => Buffer.from(`v:${key}`));
  const group = new Group({ name: 'g', cacheBytes: 10_000, getter: async () => assert.fail('no local load'), peers: peer, hotCache: false, random: () => 0 });
  await group.get('a');
  await group.get('a');
  assert.deepEqual(peer.calls, ['a', 'a']);
  assert.equal(group.hotCache.items, 0);
});

test("the owner's not-found and source failure are final: no local load", async () => {
  let localLoads = 0;
  const peer = remotePeer(async (key) => {
    if (key === 'missing') throw new NotFoundError('missing not exist');
    throw new SourceError('origin down');
  });
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async () => (localLoads++, 'x'), peers: peer });
  await assert.rejects(group.get('missing'), NotFoundError);
  await assert.rejects(group.get('other'), SourceError);
  assert.equal(localLoads, 0);
  assert.equal(group.stats().peerErrors, 0);
});

test("an owner's 4xx refusal is final: no local load", async () => {
  let localLoads = 0;
  const peer = remotePeer(async () => {
    throw new PeerRefusedError('http://owner', 400, 'key is longer than the owner accepts');
  });
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async () => (localLoads++, 'x'), peers: peer });
  await assert.rejects(group.get('k'), PeerRefusedError);
  assert.equal(localLoads, 0);
  assert.equal(group.stats().peerErrors, 0);
});

test('a key longer than MAX_KEY_BYTES (UTF-8) is refused where it enters, before any cache or load', async () => {
  let loads = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, getter: async () => (loads++, 'x') });
  const longest = 'k'.repeat(MAX_KEY_BYTES);
  assert.equal((await group.get(longest)).toString(), 'x');
  assert.throws(() => group.getCached(longest + 'k'), (e: unknown) => e instanceof InvalidKeyError && /longer than 2048 bytes/.test(e.message));
  // 700 three-byte characters: 700 UTF-16 units, 2100 bytes.
  await assert.rejects(group.get('€'.repeat(700)), InvalidKeyError);
  assert.equal((await group.get('€'.repeat(682))).toString(), 'x', '2046 bytes');
  assert.equal(loads, 2);
});

test('an unreachable owner falls back to a local load that fills the main cache', async () => {
  const peer = remotePeer(async () => {
    throw new PeerUnavailableError('http://127.0.0.1:9', 'ECONNREFUSED');
  });
  const fallbacks: string[] = [];
  const group = new Group({
    name: 'g',
    cacheBytes: 1000,
    getter: async (key) => `local:${key}`,
    peers: peer,
    observer: { peerFallback: (_g, key) => fallbacks.push(key) },
  });
  assert.equal((await group.get('k')).toString(), 'local:k');
  assert.equal((await group.get('k')).toString(), 'local:k');
  assert.deepEqual(peer.calls, ['k']);
  assert.deepEqual(fallbacks, ['k']);
  assert.equal(group.stats().peerErrors, 1);
  assert.equal(group.mainCache.items, 1);
});

test('a request from a peer is answered locally, never forwarded', async () => {
  const peer = remotePeer(async () => assert.fail('forwarded'));
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async (key) => `local:${key}`, peers: peer });
  assert.equal((await group.get('k', { fromPeer: true })).toString(), 'local:k');
  assert.equal(peer.calls.length, 0);
  assert.equal(group.stats().serverRequests, 1);
});

test('main + hot bytes never exceed the budget, and hot stays near 1/8 of main', async () => {
  const peer = remotePeer(async (key) => Buffer.alloc(90, key));
  let n = 0;
  const group = new Group({
    name: 'g',
    cacheBytes: 2000,
    getter: async () => Buffer.alloc(90, 'x'),
    peers: { pickPeer: (key) => (key.startsWith('remote') ? peer.pickPeer(key) : undefined) },
    random: () => 0, // sample every peer fetch into the hot cache
  });
  for (let i = 0; i < 300; i++) {
    await group.get(i % 3 === 0 ? `remote${n++}` : `local${i}`);
    const main = group.mainCache.bytes;
    const hot = group.hotCache.bytes;
    assert.ok(main + hot <= 2000, `over budget: ${main} + ${hot}`);
  }
  assert.ok(group.hotCache.bytes <= group.mainCache.bytes / 8 + 100, `hot ${group.hotCache.bytes} main ${group.mainCache.bytes}`);
  assert.ok(group.mainCache.stats().evictions > 0);
});

test('a cached value cannot be changed through what get() returns', async () => {
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async () => Buffer.from('630') });
  const first = await group.get('Tom');
  first.toBytes().fill(0);
  assert.equal((await group.get('Tom')).toString(), '630');
});

test('a cache budget of 0 disables caching', async () => {
  let calls = 0;
  const group = new Group({ name: 'g', cacheBytes: 0, getter: async () => (calls++, 'v') });
  await group.get('k');
  await group.get('k');
  assert.equal(calls, 2);
});

test('constructor validates its options', () => {
  assert.throws(() => new Group({ name: '', cacheBytes: 1, getter: async () => 'x' }), /name/);
  assert.throws(() => new Group({ name: 'g', cacheBytes: -1, getter: async () => 'x' }), /cacheBytes/);
});

test('after stopLoads() a miss fails as 503 without calling the getter, also when an unreachable owner would fall back', async () => {
  let loads = 0;
  const unreachable = remotePeer(async () => {
    throw new PeerUnavailableError('http://owner', 'owner gone');
  });
  const group = new Group({ name: 'g', cacheBytes: 1000, getter: async () => (loads++, 'v'), peers: unreachable });
  const local = new Group({ name: 'h', cacheBytes: 1000, getter: async () => (loads++, 'v') });
  await local.get('cached');
  group.stopLoads();
  local.stopLoads();
  await assert.rejects(group.get('k'), (e: unknown) => e instanceof SourceError && e.status === 503);
  await assert.rejects(local.get('other'), (e: unknown) => e instanceof SourceError && e.status === 503);
  assert.equal((await local.get('cached')).toString(), 'v', 'cached values are still served');
  assert.equal(loads, 1);
});

test('with a TTL a value is served until it expires, then loaded again; expired values are dropped when found', async () => {
  let clock = 1_000_000;
  let version = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, ttlMs: 5000, clock: () => clock, getter: async () => `v${++version}` });
  assert.equal((await group.get('k')).toString(), 'v1');
  clock += 4999;
  assert.equal((await group.get('k')).toString(), 'v1', 'fresh 1 ms before its TTL');
  clock += 1;
  assert.equal((await group.get('k')).toString(), 'v2', 'never served at its expiry');
  assert.equal(group.stats().expirations, 1);
  assert.equal(group.mainCache.items, 1, 'the expired entry was replaced, not kept beside');
});

test("a source's own expiry is kept when sooner than the TTL, capped when later; an already expired answer is not cached", async () => {
  let clock = 1_000_000;
  const expiries: Record<string, number> = { soon: clock + 1000, late: clock + 60_000, gone: clock - 1 };
  let loads = 0;
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    ttlMs: 5000,
    clock: () => clock,
    getter: async (key) => (loads++, ByteView.adopt(Buffer.from(key), expiries[key])),
  });
  assert.equal((await group.get('soon')).expiresAt, clock + 1000);
  assert.equal((await group.get('late')).expiresAt, clock + 5000);
  assert.equal((await group.get('gone')).toString(), 'gone', 'served to its caller');
  assert.equal(group.mainCache.peek('gone'), undefined, 'not cached');
  clock += 1000;
  await group.get('soon');
  await group.get('late');
  assert.equal(loads, 4, 'soon expired and loaded again; late still fresh');
});

test('without a TTL nothing expires: groupcache behaviour, and the clock is never read on a hit', async () => {
  let reads = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, clock: () => (reads++, 0), getter: async () => 'v' });
  await group.get('k');
  for (let i = 0; i < 5; i++) await group.get('k');
  assert.equal(group.stats().mainHits, 5);
  assert.equal(reads, 0);
});

test("a hot copy keeps the owner's expiry, capped by this group's TTL; an owner that sends none gets the TTL from now", async () => {
  let clock = 1_000_000;
  const ownerExpiry: Record<string, number> = { soon: clock + 1000, late: clock + 60_000, none: 0 };
  const peer = remotePeer(async (key) => ({ value: Buffer.from(key), expiresAt: ownerExpiry[key]! }));
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, ttlMs: 5000, clock: () => clock, peers: peer, random: () => 0, getter: async () => assert.fail('loaded') });
  for (const key of ['soon', 'late', 'none']) await group.get(key);
  assert.equal(group.hotCache.peek('soon')?.expiresAt, clock + 1000);
  assert.equal(group.hotCache.peek('late')?.expiresAt, clock + 5000);
  assert.equal(group.hotCache.peek('none')?.expiresAt, clock + 5000);
  clock += 1000;
  await group.get('soon');
  assert.deepEqual(peer.calls, ['soon', 'late', 'none', 'soon'], 'the hot copy expired with the owner\'s');
  const untimed = new Group({ name: 'u', cacheBytes: 1 << 20, clock: () => clock, peers: peer, random: () => 0, getter: async () => assert.fail('loaded') });
  await untimed.get('late');
  assert.equal(untimed.hotCache.peek('late')?.expiresAt, ownerExpiry.late, "without a TTL of its own the owner's expiry still holds");
});

test('remove() drops both copies of a key; the next get loads it again', async () => {
  let version = 0;
  const peer = remotePeer(async (key) => Buffer.from(`${key}@${++version}`));
  const owned = new Group({ name: 'o', cacheBytes: 1 << 20, getter: async (key) => `${key}@${++version}` });
  await owned.get('k');
  assert.equal(owned.remove('k'), true);
  assert.equal(owned.mainCache.peek('k'), undefined);
  assert.equal((await owned.get('k')).toString(), 'k@2');
  assert.equal(owned.remove('never-cached'), false);
  const asking = new Group({ name: 'a', cacheBytes: 1 << 20, peers: peer, random: () => 0, getter: async () => assert.fail('loaded') });
  await asking.get('h');
  assert.ok(asking.hotCache.peek('h'));
  assert.equal(asking.remove('h'), true);
  assert.equal((await asking.get('h')).toString(), 'h@4', 'fetched from the owner again');
});

test('a load in flight when its key is removed reaches its callers but is never cached; later gets load afresh', async () => {
  let version = 0;
  const releases: Array<() => void> = [];
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    getter: async (key) => {
      const loaded = `${key}@${++version}`;
      await new Promise<void>((resolve) => releases.push(resolve));
      return loaded;
    },
  });
  const before = group.get('k');
  await new Promise((resolve) => setImmediate(resolve));
  group.remove('k');
  const after = group.get('k');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(releases.length, 2, 'the get after the remove did not join the old load');
  releases[0]!();
  assert.equal((await before).toString(), 'k@1', 'asked before the remove: the old value');
  assert.equal(group.mainCache.peek('k'), undefined, 'the old value was not written back');
  releases[1]!();
  assert.equal((await after).toString(), 'k@2');
  assert.equal((await group.get('k')).toString(), 'k@2', 'the new value is cached');
  assert.equal(version, 2);
});

test("a fetch from the owner in flight when its key is removed does not fill the hot cache", async () => {
  let release!: () => void;
  const peer = remotePeer(async (key) => {
    await new Promise<void>((resolve) => (release = resolve));
    return Buffer.from(`old ${key}`);
  });
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, peers: peer, random: () => 0, getter: async () => assert.fail('loaded') });
  const pending = group.get('k');
  await new Promise((resolve) => setImmediate(resolve));
  group.remove('k');
  release();
  assert.equal((await pending).toString(), 'old k');
  assert.equal(group.hotCache.peek('k'), undefined);
});

test('reset() empties both caches and forgets every load in flight', async () => {
  let release!: () => void;
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    getter: async (key) => {
      if (key === 'slow') await new Promise<void>((resolve) => (release = resolve));
      return key;
    },
  });
  for (const key of ['a', 'b', 'c']) await group.get(key);
  const slow = group.get('slow');
  await new Promise((resolve) => setImmediate(resolve));
  group.reset();
  release();
  await slow;
  assert.equal(group.mainCache.items, 0);
  assert.equal(group.mainCache.bytes, 0);
});

test('stale-while-revalidate: past its expiry a value is served at once while exactly one refresh runs', async () => {
  let clock = 1_000_000;
  let version = 0;
  let release: (() => void) | undefined;
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    ttlMs: 1000,
    staleWhileRevalidateMs: 5000,
    clock: () => clock,
    getter: async () => {
      const loaded = `v${++version}`;
      if (version > 1) await new Promise<void>((resolve) => (release = resolve));
      return loaded;
    },
  });
  await group.get('k');
  clock += 1500;
  for (let i = 0; i < 10; i++) assert.equal(group.getCached('k')?.toString(), 'v1', 'served stale, synchronously');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(version, 2, 'one refresh for ten stale gets');
  assert.equal(group.stats().staleWhileRevalidate, 10);
  release!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(group.getCached('k')?.toString(), 'v2', 'the refresh replaced it');
  clock += 1000 + 5000;
  assert.equal(group.getCached('k'), undefined, 'past the stale window: a miss');
  const waited = group.get('k');
  await new Promise((resolve) => setImmediate(resolve));
  release!();
  assert.equal((await waited).toString(), 'v3');
});

test("stale-while-revalidate is the owner's: an expired hot copy of another peer's key is fetched again, not served", async () => {
  let clock = 1_000_000;
  const peer = remotePeer(async (key) => ({ value: Buffer.from(key), expiresAt: clock + 1000 }));
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    staleWhileRevalidateMs: 60_000,
    clock: () => clock,
    peers: peer,
    random: () => 0,
    getter: async () => assert.fail('loaded'),
  });
  await group.get('k');
  clock += 1001;
  assert.equal(group.getCached('k'), undefined);
  await group.get('k');
  assert.equal(peer.calls.length, 2);
  assert.equal(group.stats().staleWhileRevalidate, 0);
});

test('stale-if-error: a failed load is answered with the expired value within the window; not-found and later failures are not', async () => {
  let clock = 1_000_000;
  let mode: 'ok' | 'fail' | 'gone' = 'ok';
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    ttlMs: 1000,
    staleIfErrorMs: 10_000,
    clock: () => clock,
    getter: async (key) => {
      if (mode === 'fail') throw new Error('origin down');
      if (mode === 'gone') throw new NotFoundError(`${key} not exist`);
      return `${key}@${clock}`;
    },
  });
  await group.get('a');
  await group.get('b');
  clock += 2000;
  mode = 'fail';
  assert.equal((await group.get('a')).toString(), 'a@1000000', 'the stale value, not the error');
  assert.equal(group.stats().staleIfError, 1);
  assert.equal(group.getCached('a'), undefined, 'stale is never served as a hit');
  mode = 'gone';
  await assert.rejects(group.get('b'), NotFoundError);
  mode = 'fail';
  clock += 10_000;
  await assert.rejects(group.get('a'), SourceError, 'past the window the error is the answer');
  assert.deepEqual([group.stats().localLoadErrors, group.stats().sourceFailures], [3, 2], 'a not-found is a load error, not a source failure');
  assert.equal(group.mainCache.peek('a'), undefined, 'and the value is dropped');
});

test('a refresh the source answers with an uncacheable value drops the stale copy instead of keeping it', async () => {
  let clock = 1_000_000;
  let uncacheable = false;
  const group = new Group({
    name: 'g',
    cacheBytes: 1 << 20,
    ttlMs: 1000,
    staleWhileRevalidateMs: 60_000,
    clock: () => clock,
    getter: async () => (uncacheable ? ByteView.adopt(Buffer.from('private'), 1) : 'public'),
  });
  await group.get('k');
  clock += 2000;
  uncacheable = true;
  assert.equal(group.getCached('k')?.toString(), 'public');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(group.mainCache.peek('k'), undefined);
});

test("with hotCacheQps, the owner's rate decides what goes to the hot cache: hot keys always, cooler ones by their share of it; without a rate, the coin", async () => {
  const rates: Record<string, number | undefined> = { hot: 25, warm: 3, cold: 0, unsaid: undefined };
  const peer = remotePeer(async (key) => ({ value: Buffer.from(key), expiresAt: 0, minuteQps: rates[key.split('-')[0]!] }));
  // Each kind of key sees the same ten random numbers, 0.0 to 0.9.
  let draws = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, peers: peer, hotCacheQps: 10, random: () => (Math.floor(draws++ / 4) % 10) / 10, getter: async () => assert.fail('loaded') });
  for (let i = 0; i < 10; i++) for (const kind of ['hot', 'warm', 'cold', 'unsaid']) await group.get(`${kind}-${i}`);
  const hot = (kind: string) => Array.from({ length: 10 }, (_, i) => group.hotCache.peek(`${kind}-${i}`)).filter(Boolean).length;
  assert.deepEqual([hot('hot'), hot('warm'), hot('cold'), hot('unsaid')], [10, 3, 0, 1], 'all hot keys, 3 in 10 at 3/s, no cold one, 1 in 10 without a rate');
});

test('an owner counts the peer requests for each key: the rate it sends as minute_qps', () => {
  let now = 0;
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, now: () => now, getter: async (key) => key });
  let qps = 0;
  for (let i = 0; i < 40; i++) {
    now = i * 50;
    qps = group.peerRequestRate('k');
  }
  assert.ok(Math.abs(qps - 20) < 1.5, `40 requests over 2 s: ${qps}/s`);
  assert.ok(group.peerRequestRate('other') < 1, 'each key has its own count: one request in 2 s');
});
