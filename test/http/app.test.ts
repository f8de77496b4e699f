import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import { pino } from 'pino';
import { CacheNode } from '../../src/cache-node.js';
import { loadConfig } from '../../src/config.js';
import type { Discovery, PeersListener } from '../../src/discovery/discovery.js';
import { metricValue } from '../../harness/cache-process.js';
import { ENTRY_OVERHEAD_BYTES } from '../../src/engine/store/compact-store.js';

/** A Discovery whose first list the test delivers by hand (to watch readiness flip). */
class ManualDiscovery implements Discovery {
  hasListed = false;
  peers: readonly string[] = [];
  private listener: PeersListener | undefined;
  start(listener: PeersListener): void {
    this.listener = listener;
  }
  deliver(peers: string[]): void {
    this.peers = peers;
    this.hasListed = true;
    this.listener?.(peers);
  }
  async close(): Promise<void> {}
}

// An origin for the second group: "fail" answers 500, "hang" never answers in time.
const origin = createServer((req, res) => {
  const key = decodeURIComponent(req.url!.slice(1));
  if (key === 'fail') return void res.writeHead(500).end('origin exploded');
  if (key === 'hang') return void setTimeout(() => res.end('late'), 2000);
  // Every byte value, as a value small enough to be written as text and as one that is not.
  if (key.startsWith('bytes')) return void res.end(Buffer.from(Array.from({ length: Number(key.slice(5)) }, (_, i) => (i * 7) & 255)));
  res.end(`page:${key}`);
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
after(() => {
  origin.closeAllConnections();
  origin.close();
});

async function startNode(discovery?: Discovery, env: Record<string, string> = {}) {
  const config = loadConfig({
    GEECACHE_PORT: '0',
    GEECACHE_HTTP_PORT: '0',
    GEECACHE_BIND: '127.0.0.1',
    GEECACHE_SELF: 'http://127.0.0.1:1',
    GEECACHE_DEMO_LATENCY_MS: '1',
    GEECACHE_SOURCE_TIMEOUT_MS: '200',
    GEECACHE_GROUPS: `scores:1MiB:demo,pages:1MiB:http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
    ...env,
  });
  const node = new CacheNode({ config, logger: pino({ level: 'silent' }), discovery, defaultMetrics: false });
  await node.start();
  after(() => node.close());
  return node;
}

test('GET /api answers every case with the right status and a message', async () => {
  const node = await startNode();
  const api = request(node.httpServer);
  const tom = await api.get('/api?key=Tom').expect(200).expect('content-type', 'application/octet-stream');
  assert.equal(tom.body.toString(), '630');
  await api.get('/api?key=Sam&group=scores').expect(200, Buffer.from('567'));
  await api.get('/api').expect(400, /key is required/);
  await api.get('/api?key=').expect(400, /key is required/);
  await api.get('/api?key=a&key=b').expect(400, /at most once/);
  await api.get('/api?key=Tom&group=nope').expect(404, 'no such group: nope\n');
  await api.get('/api?key=kkk').expect(404, 'kkk not exist\n');
  const page = await api.get('/api?key=a%20b&group=pages').expect(200);
  assert.equal(page.body.toString(), 'page:a b');
  // The origin's body stays in the log: the client gets the status and a short message.
  await api.get('/api?key=fail&group=pages').expect(502, 'the origin answered 500\n');
  await api.get('/api?key=hang&group=pages').expect(502, 'the origin did not answer\n');
  await api.post('/api?key=Tom').expect(405);
  await api.get('/nowhere').expect(404, /no route/);
  const head = await api.head('/api?key=Tom').expect(200);
  assert.equal(head.headers['content-length'], '3');
  await api.get(`/api?key=${'x'.repeat(2049)}`).expect(400, 'key is longer than 2048 bytes (UTF-8)\n');
  // 6,000 spaces: short enough as a query (+), the size that used to overflow the owner's peer path.
  await api.get(`/api?key=${'+'.repeat(6000)}`).expect(400, /longer than 2048 bytes/);
});

test('/debug/ring reads its query as /api does', async () => {
  const node = await startNode();
  const api = request(node.httpServer);
  await api.get('/debug/ring?key=%zz').expect(400, 'malformed percent-encoding in key\n');
  await api.get('/debug/ring?key=a&key=b').expect(400, /at most once/);
  const ring = (await api.get('/debug/ring?key=a+b').expect(200)).body as { key: string; owner: string };
  assert.equal(ring.key, 'a b');
  assert.equal(ring.owner, 'http://127.0.0.1:1');
});

test('GEECACHE_DEBUG_RING puts /debug/ring on the HTTP port (default), on the peer port only, or nowhere', async () => {
  const where = async (setting: string | undefined) => {
    const node = await startNode(undefined, setting === undefined ? {} : { GEECACHE_DEBUG_RING: setting });
    const http = (await request(node.httpServer).get('/debug/ring?key=a')).status;
    const peer = await request(node.peerServer).get('/debug/ring?key=a');
    if (peer.status === 200) assert.equal((peer.body as { owner: string }).owner, 'http://127.0.0.1:1');
    return { http, peer: peer.status };
  };
  assert.deepEqual(await where(undefined), { http: 200, peer: 404 });
  assert.deepEqual(await where('http'), { http: 200, peer: 404 });
  assert.deepEqual(await where('peer'), { http: 404, peer: 200 });
  assert.deepEqual(await where('off'), { http: 404, peer: 404 });
  const node = await startNode(undefined, { GEECACHE_DEBUG_RING: 'peer' });
  await request(node.peerServer).get('/debug/ring?key=%zz').expect(400, 'malformed percent-encoding in key\n');
  await request(node.peerServer).post('/debug/ring').expect(405);
  assert.throws(() => loadConfig({ GEECACHE_DEBUG_RING: 'api' }), /GEECACHE_DEBUG_RING.*must be one of http, peer, off/);
});

test('requests node:http cannot take get their proper status and a one-line message, never a bare 400', async () => {
  const node = await startNode();
  const { port } = node.httpServer.address() as AddressInfo;
  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  const overflow = await raw(`GET /api?key=${'a'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`);
  assert.match(overflow, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(overflow, /\r\n\r\nrequest line and headers are larger than the server accepts \(16 KiB\)\n$/);
  const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nmalformed HTTP request \(HPE_[A-Z_]+\)\n$/);
});

test('GET /api sends every byte value exactly, on the miss and on the hits, small values and large', async () => {
  const node = await startNode();
  const api = request(node.httpServer);
  for (const size of [1, 256, 512, 513, 4096]) {
    const expected = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) & 255));
    for (let i = 0; i < 3; i++) {
      const res = await api.get(`/api?key=bytes${size}&group=pages`).expect(200).expect('content-length', String(size));
      assert.deepEqual(res.body, expected, `${size} bytes, request ${i + 1}`);
    }
    const head = await api.head(`/api?key=bytes${size}&group=pages`).expect(200).expect('content-length', String(size));
    assert.equal(head.text ?? '', '');
  }
});

test('/api in any case and with a trailing slash is the API, as Express would route it', async () => {
  const node = await startNode();
  const api = request(node.httpServer);
  for (const path of ['/api/', '/API', '/Api/']) {
    assert.equal((await api.get(`${path}?key=Tom`).expect(200)).body.toString(), '630', path);
    await api.get(`${path}?key=kkk`).expect(404, 'kkk not exist\n');
    await api.get(path).expect(400);
  }
  await api.get('/apis?key=Tom').expect(404, /no route/);
});

test('/metrics counts a known sequence of requests exactly', async () => {
  const node = await startNode();
  const api = request(node.httpServer);
  await api.get('/api?key=Tom').expect(200); // miss, local load
  await api.get('/api?key=Tom').expect(200); // main hit
  await api.get('/api?key=Tom').expect(200); // main hit
  await api.get('/api?key=kkk').expect(404); // miss, failed load
  await api.get('/api?key=x&group=pages').expect(200); // miss, local load from the origin
  const text = (await api.get('/metrics').expect(200).expect('content-type', /text\/plain/)).text;
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    assert.ok(line, `no series ${series} in\n${text}`);
    return Number(line.split(' ').pop());
  };
  assert.equal(value('geecache_gets_total{group="scores"}'), 4);
  assert.equal(value('geecache_cache_hits_total{group="scores",cache="main"}'), 2);
  assert.equal(value('geecache_cache_hits_total{group="scores",cache="hot"}'), 0);
  assert.ok(!text.includes('geecache_cache_misses_total'), 'misses are loads_total, not a second series');
  assert.equal(value('geecache_loads_total{group="scores"}'), 2);
  assert.equal(value('geecache_loads_deduped_total{group="scores"}'), 2);
  // Good loads only, as groupcache's LocalLoads: the not-found counts as an error, not a load.
  assert.equal(value('geecache_local_loads_total{group="scores"}'), 1);
  assert.equal(value('geecache_local_load_errors_total{group="scores"}'), 1);
  assert.equal(value('geecache_local_loads_total{group="pages"}'), 1);
  assert.equal(value('geecache_peer_loads_total{group="scores"}'), 0);
  assert.equal(value('geecache_cache_items{group="scores",cache="main"}'), 1);
  assert.equal(value('geecache_cache_bytes{group="scores",cache="main"}'), 'Tom'.length + '630'.length + ENTRY_OVERHEAD_BYTES);
  assert.equal(value('geecache_peers'), 1);
  assert.equal(value('geecache_membership_changes_total'), 1);
  assert.equal(value('geecache_api_request_duration_seconds_count{group="scores",code="200"}'), 3);
  assert.equal(value('geecache_api_request_duration_seconds_count{group="scores",code="404"}'), 1);
  assert.equal(value('geecache_load_duration_seconds_count{group="scores",outcome="ok"}'), 1);
  assert.equal(metricValue(text, 'geecache_discovery_errors_total'), 0);
  assert.equal(value('geecache_store_segments{group="scores",cache="main"}'), 1);
  assert.equal(value('geecache_store_segment_bytes{group="scores",cache="main",state="live"}'), 'Tom'.length + '630'.length);
  assert.equal(value('geecache_store_segment_bytes{group="scores",cache="main",state="dead"}'), 0);
  // The ledger is the node's: every group's segments, held until the GC frees them.
  const held = metricValue(text, 'geecache_segment_bytes', { state: 'held' })!;
  const dropped = metricValue(text, 'geecache_segment_bytes', { state: 'dropped' })!;
  assert.ok(held >= 2 * 1024 * 1024, `held ${held}: a 1 MiB segment in each group's main cache`);
  assert.ok(dropped >= 0 && dropped <= held, `dropped ${dropped} is part of what is held`);
  assert.match(text, /# TYPE geecache_gets_total counter/);
});

test('/readyz is 503 until the first peer list, 200 after, 503 while draining; /healthz always 200', async () => {
  const discovery = new ManualDiscovery();
  const node = await startNode(discovery, { GEECACHE_DRAIN_TIMEOUT_MS: '2000', GEECACHE_SHUTDOWN_DELAY_MS: '300' });
  const http = request(node.httpServer);
  await http.get('/readyz').expect(503, /waiting for the first peer list/);
  await http.get('/healthz').expect(200);
  discovery.deliver(['http://127.0.0.1:1']);
  await http.get('/readyz').expect(200);
  const ring = (await http.get('/debug/ring?key=Tom').expect(200)).body;
  const { handoff, ...rest } = ring as { handoff: { windowMs: number; remainingMs: number; previousPeers: string[] } };
  assert.deepEqual(rest, { self: 'http://127.0.0.1:1', peers: ['http://127.0.0.1:1'], replicas: 50, key: 'Tom', owner: 'http://127.0.0.1:1' });
  // The first peer list is a membership change: the handoff window opened then, with the empty ring before it.
  assert.equal(handoff.windowMs, 60_000);
  assert.ok(handoff.remainingMs > 50_000 && handoff.remainingMs <= 60_000, String(handoff.remainingMs));
  assert.deepEqual(handoff.previousPeers, []);

  // During the shutdown delay the listeners still accept, and readiness says why it is 503.
  const closing = node.close();
  const during = await http.get('/readyz').expect(503, /shutting down/);
  assert.equal(during.headers.connection, 'close');
  // The fast /api path and the peer port say so too.
  const answer = await http.get('/api?key=Tom').expect(200);
  assert.equal(answer.headers.connection, 'close');
  const peer = await request(node.peerServer).get('/_geecache/nope').expect(400);
  assert.equal(peer.headers.connection, 'close');
  await closing;
  assert.equal(node.httpServer.listening, false);
  assert.equal(node.peerServer.listening, false);
});

test('the peer port answers only the peer protocol', async () => {
  const node = await startNode();
  const peer = request(node.peerServer);
  const ok = await peer.get('/_geecache/scores/Tom').buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  }).expect(200).expect('content-type', 'application/x-protobuf');
  // The value, then minute_qps: the first peer request for it reads as 1 per second.
  const one = Buffer.alloc(8);
  one.writeDoubleLE(1);
  assert.deepEqual(ok.body, Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('630'), Buffer.from([0x11]), one]));
  await peer.get('/_geecache/scores/kkk').expect(404, 'kkk not exist\n');
  await peer.get('/_geecache/nope/Tom').expect(404, 'no such group: nope\n');
  await peer.get('/_geecache/scores').expect(400);
  await peer.get(`/_geecache/scores/${'x'.repeat(2049)}`).expect(400, /longer than 2048 bytes/);
  await peer.get('/api?key=Tom').expect(404, 'no route for GET /api\n');
  await peer.get('/metrics').expect(404, 'no route for GET /metrics\n');
  // Tom, kkk and the refused long key: every get that reached the group counts.
  assert.equal(node.groups.get('scores')!.stats().serverRequests, 3);
});
