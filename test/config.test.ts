import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig, parseBytes, parseGroups, SETTINGS, settingsTable, usage } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

test('defaults give a working single static peer with the demo group', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8001);
  assert.equal(config.httpPort, 9999);
  assert.equal(config.bind, '0.0.0.0');
  assert.equal(config.self, 'http://127.0.0.1:8001');
  assert.equal(config.discovery, 'static');
  assert.deepEqual(config.groups, [{ name: 'scores', cacheBytes: 64 * 1024 * 1024, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'demo' } }]);
  assert.equal(config.basePath, '/_geecache/');
  assert.equal(config.peerTimeoutMs, 2000);
  assert.equal(config.replicas, 50);
  assert.equal(config.hotCache, true);
  assert.equal(config.peerBatch, true);
  assert.equal(loadConfig({}, ['--peer-batch', 'off']).peerBatch, false);
  assert.equal(config.idleGc, true);
  assert.equal(loadConfig({ GEECACHE_IDLE_GC: 'off' }).idleGc, false);
  assert.throws(() => loadConfig({ GEECACHE_IDLE_GC: 'yes' }), /GEECACHE_IDLE_GC/);
});

test('flags override environment variables', () => {
  const config = loadConfig({ GEECACHE_PORT: '7000', LOG_LEVEL: 'warn' }, ['--port', '7100', '--log-level=debug', '--peers', 'http://a:1,http://b:2/']);
  assert.equal(config.port, 7100);
  assert.equal(config.logLevel, 'debug');
  assert.deepEqual(config.peers, ['http://a:1', 'http://b:2']);
});

test('groups: name:bytes:source, with origins that contain colons', () => {
  assert.deepEqual(parseGroups('scores:64MiB:demo,pages:256MiB:http://origin.internal:8080'), [
    { name: 'scores', cacheBytes: 64 * 2 ** 20, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'demo' } },
    { name: 'pages', cacheBytes: 256 * 2 ** 20, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'http', origin: 'http://origin.internal:8080' } },
  ]);
  assert.deepEqual(parseGroups('a:1.5KiB:https://x.example/values/')[0]!.source, { kind: 'http', origin: 'https://x.example/values' });
  assert.equal(parseBytes('1GiB'), 2 ** 30);
  assert.equal(parseBytes('500KB'), 500_000);
  assert.equal(parseBytes('1024'), 1024);
  assert.equal(parseBytes('12 parsecs'), undefined);
});

test('kubernetes mode derives self from POD_IP and requires the Service name', () => {
  const config = loadConfig({ GEECACHE_DISCOVERY: 'kubernetes', GEECACHE_SERVICE: 'geecache-peers', POD_IP: '10.1.2.3', POD_NAMESPACE: 'cache' });
  assert.equal(config.self, 'http://10.1.2.3:8001');
  assert.equal(config.namespace, 'cache');
  assert.equal(loadConfig({ GEECACHE_DISCOVERY: 'kubernetes', GEECACHE_SERVICE: 's', POD_IP: 'fd00::5' }).self, 'http://[fd00::5]:8001');
  assert.throws(() => loadConfig({ GEECACHE_DISCOVERY: 'kubernetes', POD_IP: '10.1.2.3' }), /GEECACHE_SERVICE/);
  assert.throws(() => loadConfig({ GEECACHE_DISCOVERY: 'kubernetes', GEECACHE_SERVICE: 's' }), /GEECACHE_SELF.*POD_IP/);
});

test('with GEECACHE_PEER_TLS_DIR every peer URL is https://, without it http://: the ring hashes the strings every pod builds alike', () => {
  const tls = { GEECACHE_PEER_TLS_DIR: '/etc/geecache/peer-tls' };
  const k8s = { GEECACHE_DISCOVERY: 'kubernetes', GEECACHE_SERVICE: 's', POD_IP: '10.1.2.3' };
  assert.equal(loadConfig({ ...k8s, ...tls }).self, 'https://10.1.2.3:8001');
  assert.equal(loadConfig(tls).self, 'https://127.0.0.1:8001');
  assert.equal(loadConfig({ ...tls, GEECACHE_PEERS: 'https://10.0.0.2:8001' }).peerTlsDir, '/etc/geecache/peer-tls');
  assert.throws(() => loadConfig({ ...tls, GEECACHE_PEERS: 'http://10.0.0.2:8001' }), /GEECACHE_PEERS: "http:\/\/10.0.0.2:8001" must be https:\/\/ with GEECACHE_PEER_TLS_DIR set/);
  assert.throws(() => loadConfig({ ...tls, GEECACHE_SELF: 'http://10.0.0.1:8001' }), /GEECACHE_SELF: .* must be https:\/\//);
  assert.throws(() => loadConfig({ GEECACHE_SELF: 'https://10.0.0.1:8001' }), /GEECACHE_SELF: .* must be http:\/\/ unless GEECACHE_PEER_TLS_DIR is set/);
  assert.equal(loadConfig({}).peerTlsDir, undefined);
});

test('a group may carry a TTL between its bytes and its source: name:bytes:ttl:source', () => {
  assert.deepEqual(parseGroups('scores:64MiB:30s:demo,pages:1MiB:1.5h:http://origin:8080/v'), [
    { name: 'scores', cacheBytes: 64 * 2 ** 20, ttlMs: 30_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'demo' } },
    { name: 'pages', cacheBytes: 2 ** 20, ttlMs: 5_400_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'http', origin: 'http://origin:8080/v' } },
  ]);
  assert.equal(parseGroups('a:1KiB:250ms:demo')[0]!.ttlMs, 250);
  assert.equal(parseGroups('a:1KiB:7d:demo')[0]!.ttlMs, 7 * 86_400_000);
  assert.throws(() => parseGroups('a:1KiB:5x:demo'), /"5x" in group "a" is not a TTL such as 30s/);
});

test('the freshness field adds stale windows to the TTL, named as in Cache-Control; 0s is no TTL', () => {
  const [group] = parseGroups('pages:1MiB:30s+stale-while-revalidate=10s+stale-if-error=1h:http://origin:8080');
  assert.deepEqual(group, {
    name: 'pages',
    cacheBytes: 2 ** 20,
    ttlMs: 30_000,
    staleWhileRevalidateMs: 10_000,
    staleIfErrorMs: 3_600_000,
    source: { kind: 'http', origin: 'http://origin:8080' },
  });
  assert.deepEqual(parseGroups('a:1KiB:0s+stale-if-error=5m:demo')[0], { name: 'a', cacheBytes: 1024, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 300_000, source: { kind: 'demo' } });
  assert.throws(() => parseGroups('a:1KiB:30s+swr=10s:demo'), /"\+swr=10s" in group "a" is not stale-while-revalidate=<duration> or stale-if-error=<duration>/);
  assert.throws(() => parseGroups('a:1KiB:30s+stale-if-error=soon:demo'), /"\+stale-if-error=soon" in group "a"/);
  assert.throws(() => parseGroups('a:1KiB:30s+stale-if-error:demo'), /"\+stale-if-error" in group "a"/);
});

test('the admin token comes from the environment only, is off when unset, and must be long and without spaces', () => {
  assert.equal(loadConfig({}).adminToken, undefined);
  assert.equal(loadConfig({ GEECACHE_ADMIN_TOKEN: '' }).adminToken, undefined);
  assert.equal(loadConfig({ GEECACHE_ADMIN_TOKEN: 'x'.repeat(16) }).adminToken, 'x'.repeat(16));
  assert.throws(() => loadConfig({}, ['--admin-token', 'x'.repeat(16)]), /unknown flag/);
  assert.match(usage(), /GEECACHE_ADMIN_TOKEN/);
});

test('warm handoff is on by default, tunable, and its peer token comes from the environment only', () => {
  const config = loadConfig({});
  assert.deepEqual(
    [config.handoff, config.handoffWindowMs, config.handoffPeekTimeoutMs, config.handoffPushMs, config.handoffPushBytes, config.peerToken],
    [true, 60_000, 50, 5000, 256 * 2 ** 20, undefined],
  );
  const tuned = loadConfig({ GEECACHE_HANDOFF: 'off', GEECACHE_HANDOFF_PUSH_BYTES: '1GiB', GEECACHE_PEER_TOKEN: 'p'.repeat(20) });
  assert.deepEqual([tuned.handoff, tuned.handoffPushBytes, tuned.peerToken], [false, 2 ** 30, 'p'.repeat(20)]);
  assert.match(usage(), /GEECACHE_PEER_TOKEN/);
});

test('every bad value fails with a ConfigError naming its variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ GEECACHE_HANDOFF_PUSH_BYTES: 'lots' }, /^GEECACHE_HANDOFF_PUSH_BYTES: "lots" is not a byte size/],
    [{ GEECACHE_HANDOFF_PEEK_TIMEOUT_MS: '0' }, /^GEECACHE_HANDOFF_PEEK_TIMEOUT_MS: must be at least 1/],
    [{ GEECACHE_PEER_TOKEN: 'short' }, /^GEECACHE_PEER_TOKEN: must be at least 16 characters/],
    [{ GEECACHE_ADMIN_TOKEN: 'short' }, /^GEECACHE_ADMIN_TOKEN: must be at least 16 characters/],
    [{ GEECACHE_ADMIN_TOKEN: 'has a space in it, sadly' }, /^GEECACHE_ADMIN_TOKEN: must not contain whitespace/],
    [{ GEECACHE_PORT: 'abc' }, /^GEECACHE_PORT: must be a number/],
    [{ GEECACHE_PORT: '70000' }, /^GEECACHE_PORT: must be 0-65535/],
    [{ GEECACHE_HTTP_PORT: '8001' }, /^GEECACHE_HTTP_PORT: must differ/],
    [{ GEECACHE_DISCOVERY: 'consul' }, /^GEECACHE_DISCOVERY: must be one of static, kubernetes/],
    [{ GEECACHE_GROUPS: 'scores:64MiB' }, /^GEECACHE_GROUPS: "scores:64MiB" is not name:bytes:source/],
    [{ GEECACHE_GROUPS: 'scores:lots:demo' }, /^GEECACHE_GROUPS: "lots" in group "scores" is not a byte size/],
    [{ GEECACHE_GROUPS: 'scores:1MiB:ftp://x' }, /^GEECACHE_GROUPS: source "ftp:\/\/x"/],
    [{ GEECACHE_GROUPS: 'a:1MiB:demo,a:2MiB:demo' }, /listed twice/],
    [{ GEECACHE_GROUPS: '' }, /^GEECACHE_GROUPS: at least one group/],
    [{ GEECACHE_PEERS: 'http://a:1/path' }, /^GEECACHE_PEERS: "http:\/\/a:1\/path" must be a base URL/],
    [{ GEECACHE_SELF: 'not a url' }, /^GEECACHE_SELF:/],
    [{ GEECACHE_BASE_PATH: '/_geecache' }, /^GEECACHE_BASE_PATH: must start and end with/],
    [{ GEECACHE_PEER_TIMEOUT_MS: '0' }, /^GEECACHE_PEER_TIMEOUT_MS: must be at least 1/],
    [{ GEECACHE_PEER_TIMEOUT_MS: '1.5' }, /^GEECACHE_PEER_TIMEOUT_MS: must be a whole number/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
    [{ GEECACHE_HOT_CACHE: 'yes' }, /^GEECACHE_HOT_CACHE: must be one of on, off/],
    [{ GEECACHE_PEER_BATCH: 'true' }, /^GEECACHE_PEER_BATCH: must be one of on, off/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
  assert.throws(() => loadConfig({}, ['--nope', '1']), /--nope: unknown flag/);
  assert.throws(() => loadConfig({}, ['--port']), /--port: needs a value/);
  assert.throws(() => loadConfig({}, ['stray']), /unexpected argument/);
});

test("docs/configuration.md's table is the one the settings declaration gives", () => {
  // From dist/test/ to the repository's docs/.
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const begin = '<!-- settings table: generated by scripts/settings-table.mjs from src/config.ts -->\n';
  const table = doc.slice(doc.indexOf(begin) + begin.length, doc.indexOf('\n<!-- end of settings table -->'));
  assert.ok(doc.includes(begin), 'docs/configuration.md keeps the markers around its table');
  assert.equal(table, settingsTable(), 'docs/configuration.md is out of date: npm run build && node scripts/settings-table.mjs --write');
});

test('--help and the docs list every variable the program reads, KUBECONFIG and KUBERNETES_SERVICE_HOST included', () => {
  const envs = Object.values(SETTINGS).map((s) => s.env);
  assert.equal(new Set(envs).size, envs.length, 'each variable is declared once');
  for (const env of envs) {
    assert.equal(usage().split('\n').filter((line) => line.includes(` ${env} `)).length, 1, `--help lists ${env} once`);
    assert.ok(settingsTable().includes(`| \`${env}\` |`), `the docs' table lists ${env}`);
  }
  assert.ok(envs.includes('KUBECONFIG') && envs.includes('KUBERNETES_SERVICE_HOST'));
  assert.deepEqual([loadConfig({}).kubeconfig, loadConfig({}).inCluster], [undefined, false]);
  const inPod = loadConfig({ KUBECONFIG: '/etc/kube/a:/etc/kube/b', KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  assert.deepEqual([inPod.kubeconfig, inPod.inCluster], ['/etc/kube/a:/etc/kube/b', true]);
  assert.throws(() => loadConfig({}, ['--kubeconfig', 'x']), /unknown flag/);
});
