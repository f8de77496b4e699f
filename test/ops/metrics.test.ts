import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import type { RestartReason } from '../../src/discovery/kubernetes/watch.js';
import { createMetrics, DISCOVERY_RESTART_REASONS } from '../../src/ops/metrics.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function metricsFor() {
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    createClient: () => {
      throw new Error('no peers in this test');
    },
  });
  return createMetrics(new GroupRegistry(), ring, { defaultMetrics: false });
}

/** The lines of one metric family (HELP, TYPE and samples) from a scrape. */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}_`) || line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `));
}

test('the latency histograms print exactly what the prom-client Histograms they replace printed', async () => {
  const metrics = metricsFor();
  const reference = new Registry();
  const specs = [
    { histogram: metrics.apiDuration, labels: { group: 'scores', code: 200 }, name: 'geecache_api_request_duration_seconds', help: 'Time to answer GET /api, by group and status code.', labelNames: ['group', 'code'] },
    { histogram: metrics.peerDuration, labels: { group: 'scores', outcome: 'ok' }, name: 'geecache_peer_request_duration_seconds', help: 'Time to fetch a value from its owner peer.', labelNames: ['group', 'outcome'] },
    { histogram: metrics.loadDuration, labels: { group: 'scores', outcome: 'error' }, name: 'geecache_load_duration_seconds', help: 'Time to load a value from this process\'s source.', labelNames: ['group', 'outcome'] },
  ] as const;
  for (const spec of specs) {
    const old = new Histogram({ name: spec.name, help: spec.help, labelNames: spec.labelNames, buckets: LATENCY_BUCKETS, registers: [reference] });
    assert.deepEqual(spec.histogram.buckets, LATENCY_BUCKETS);
    assert.deepEqual(spec.histogram.labelNames, spec.labelNames);
    for (const value of [0.0004, 0.0005, 0.003, 0.75, 12]) {
      old.observe(spec.labels, value);
      // cache-node.ts calls observe(labels, seconds); api-handler.ts uses child() recorders.
      if (spec.histogram === metrics.apiDuration) metrics.apiDuration.child(spec.labels as { group: string; code: number }).observe(value);
      else (spec.histogram as typeof metrics.peerDuration).observe(spec.labels as { group: string; outcome: string }, value);
    }
  }
  const ours = await metrics.registry.metrics();
  const expected = await reference.metrics();
  for (const spec of specs) {
    const lines = family(ours, spec.name);
    assert.equal(lines.length, 2 + LATENCY_BUCKETS.length + 3, spec.name);
    assert.deepEqual(lines, family(expected, spec.name));
  }
});

test('peer traffic counters read the shared counts at scrape time', async () => {
  const ring = new PeerRing({ self: 'http://127.0.0.1:1', createClient: () => assert.fail('no peers in this test') });
  const peerTraffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 };
  const metrics = createMetrics(new GroupRegistry(), ring, { defaultMetrics: false, peerTraffic });
  peerTraffic.gets = 3;
  peerTraffic.batches = 2;
  peerTraffic.batchedKeys = 57;
  const text = await metrics.registry.metrics();
  assert.match(text, /^geecache_peer_http_requests_total\{kind="get"\} 3$/m);
  assert.match(text, /^geecache_peer_http_requests_total\{kind="batch"\} 2$/m);
  assert.match(text, /^geecache_peer_batched_keys_total 57$/m);
});

test("every other peer's circuit state is a gauge, and trips are counted across peers", async () => {
  const states = new Map([['http://127.0.0.1:2', 'open'], ['http://127.0.0.1:3', 'closed']] as const);
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    createClient: (url) => ({ url, circuit: states.get(url as 'http://127.0.0.1:2'), get: async () => ({ value: new Uint8Array(), expiresAt: 0 }), close: async () => {} }),
  });
  ring.set('http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3');
  const peerTraffic = { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 4 };
  const text = await createMetrics(new GroupRegistry(), ring, { defaultMetrics: false, peerTraffic }).registry.metrics();
  assert.match(text, /^geecache_peer_circuit\{peer="http:\/\/127\.0\.0\.1:2",state="open"\} 1$/m);
  assert.match(text, /^geecache_peer_circuit\{peer="http:\/\/127\.0\.0\.1:2",state="closed"\} 0$/m);
  assert.match(text, /^geecache_peer_circuit\{peer="http:\/\/127\.0\.0\.1:3",state="closed"\} 1$/m);
  assert.doesNotMatch(text, /peer="http:\/\/127\.0\.0\.1:1"/, 'not for self');
  assert.match(text, /^geecache_peer_circuit_trips_total 4$/m);
});

test('discovery restarts have a series per reason at 0 before the first restart, and every RestartReason is one', async () => {
  // A Record over RestartReason fails to compile when watch.ts gains a reason this object lacks.
  const everyReason: Record<RestartReason, true> = { error: true, resync: true };
  assert.deepEqual([...DISCOVERY_RESTART_REASONS].sort(), Object.keys(everyReason).sort());
  const metrics = metricsFor();
  const samples = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('geecache_discovery_restarts_total{'));
  assert.deepEqual(samples, ['geecache_discovery_restarts_total{reason="error"} 0', 'geecache_discovery_restarts_total{reason="resync"} 0']);
  metrics.discoveryRestarts.inc({ reason: 'resync' });
  assert.match(await metrics.registry.metrics(), /^geecache_discovery_restarts_total\{reason="resync"\} 1$/m);
});

test('peer-port refusals have a series per known request and reason at 0 before the first refusal', async () => {
  const metrics = metricsFor();
  const samples = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('geecache_peer_requests_refused_total{'));
  assert.equal(samples.length, 8);
  for (const request of ['peek', 'handoff', 'invalidation', 'set']) {
    assert.ok(samples.includes(`geecache_peer_requests_refused_total{request="${request}",reason="token"} 0`), request);
  }
  assert.ok(samples.includes('geecache_peer_requests_refused_total{request="handoff",reason="not-leaving"} 0'));
  metrics.peerRefused.inc({ request: 'set', reason: 'token' });
  assert.match(await metrics.registry.metrics(), /^geecache_peer_requests_refused_total\{request="set",reason="token"\} 1$/m);
});
