// watch.test.ts runs KubernetesDiscovery against the fake API server: contract, membership changes, failures.

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { KubernetesDiscovery, type DiscoveryTimers, type KubernetesDiscoveryOptions } from '../../../src/discovery/kubernetes/watch.js';
import { FakeKubeApiServer, endpointSlice, kubeConfigFor, type TestEndpoint } from '../../../harness/fake-kube-apiserver.js';
import { assertCanonical, discoverySuite, sleep, waitFor } from '../discovery.shared.js';

const SERVICE = 'geecache';
const A = 'http://10.0.0.1:8001';
const B = 'http://10.0.0.2:8001';
const C = 'http://10.0.0.3:8001';
const D = 'http://10.0.0.4:8001';
const self = A;

let server: FakeKubeApiServer;
let nsCounter = 0;
const toClose: Array<() => Promise<void>> = [];

before(async () => {
  server = await FakeKubeApiServer.start();
});
// Every discovery a test made is closed after that test, so tests cannot see each other's watches.
afterEach(async () => {
  for (const close of toClose.splice(0)) await close();
});
after(async () => {
  await server.close();
});

const ip = (url: string): string => new URL(url).hostname;

/** Timers that run `factor` times faster than the delays they are given, recording each delay. */
function fastTimers(factor: number, delays: number[] = []): DiscoveryTimers {
  return {
    setTimeout: (callback, ms) => {
      delays.push(ms);
      return setTimeout(callback, ms / factor);
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

interface Harness {
  namespace: string;
  discovery: KubernetesDiscovery;
  deliveries: (readonly string[])[];
  errors: unknown[];
  restarts: string[];
  logs: Array<{ level: number; msg: string }>;
  publish(endpoints: TestEndpoint[], name?: string): void;
}

/** A discovery on a fresh namespace with fast settings; every delivery is checked for the invariant. */
function harness(options: Partial<KubernetesDiscoveryOptions> = {}): Harness {
  const namespace = `ns-${++nsCounter}`;
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as { level: number; msg: string });
      callback();
    },
  });
  const errors: unknown[] = [];
  const restarts: string[] = [];
  const discovery = new KubernetesDiscovery({
    kubeConfig: kubeConfigFor(server),
    namespace,
    service: SERVICE,
    self,
    debounceMs: 30,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    resyncMs: 0,
    listTimeoutMs: 2000,
    logger: pino({ level: 'debug' }, sink),
    onError: (err) => errors.push(err),
    onRestart: (reason) => restarts.push(reason),
    ...options,
  });
  toClose.push(() => discovery.close());
  const deliveries: (readonly string[])[] = [];
  const h: Harness = {
    namespace,
    discovery,
    deliveries,
    errors,
    restarts,
    logs,
    publish: (endpoints, name = `${SERVICE}-abcde`) => {
      server.applySlice(namespace, endpointSlice({ name, service: SERVICE, endpoints }));
    },
  };
  return h;
}

function start(h: Harness): void {
  h.discovery.start((peers) => {
    assertCanonical(peers, self);
    const previous = h.deliveries.at(-1);
    assert.notDeepEqual(peers, previous, 'a delivery always changes the list');
    h.deliveries.push(peers);
  });
}

const ready = (...urls: string[]): TestEndpoint[] => urls.map((u) => ({ ip: ip(u) }));
const last = (h: Harness): readonly string[] | undefined => h.deliveries.at(-1);
async function converge(h: Harness, expected: string[], what = JSON.stringify(expected), timeoutMs = 5000): Promise<void> {
  await waitFor(() => JSON.stringify(last(h)) === JSON.stringify(expected), what, timeoutMs);
  assert.deepEqual(h.discovery.peers, expected);
}

/** The first delivery follows the list at once; the watch connects just after. */
async function watching(h: Harness): Promise<void> {
  await waitFor(() => server.openWatchesIn(h.namespace) === 1, 'an open watch');
}

discoverySuite('KubernetesDiscovery', {
  self,
  create: async (others) => {
    const h = harness();
    h.publish(others.map((u) => ({ ip: ip(u) })));
    return { discovery: h.discovery };
  },
});

describe('KubernetesDiscovery against the fake API server', () => {
  it('follows three pods becoming ready one by one', async () => {
    const h = harness();
    h.publish([
      { ip: '10.0.0.1', ready: false },
      { ip: '10.0.0.2', ready: false },
      { ip: '10.0.0.3', ready: false },
    ]);
    start(h);
    await converge(h, [A]);
    h.publish([{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }, { ip: '10.0.0.3', ready: false }]);
    await sleep(80);
    assert.equal(h.deliveries.length, 1, 'self becoming ready does not change the list');
    assert.ok(h.logs.some((l) => /self is among the ready endpoints/.test(l.msg)));
    h.publish([{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3', ready: false }]);
    await converge(h, [A, B]);
    h.publish(ready(A, B, C));
    await converge(h, [A, B, C]);
    assert.deepEqual(h.deliveries, [[A], [A, B], [A, B, C]]);
    assert.equal(h.errors.length, 0);
  });

  it('drops a pod that turns not-ready and takes it back', async () => {
    const h = harness();
    h.publish(ready(A, B, C));
    start(h);
    await converge(h, [A, B, C]);
    h.publish([{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }, { ip: '10.0.0.3' }]);
    await converge(h, [A, C]);
    h.publish(ready(A, B, C));
    await converge(h, [A, B, C]);
    assert.equal(h.deliveries.length, 3);
  });

  it('merges a slice split into two without a spurious delivery, then follows the new slice', async () => {
    const h = harness();
    h.publish(ready(A, B, C), 'geecache-1');
    start(h);
    await converge(h, [A, B, C]);
    // The controller creates the new slice first, then shrinks the old one.
    h.publish(ready(C), 'geecache-2');
    h.publish(ready(A, B), 'geecache-1');
    await sleep(100);
    assert.equal(h.deliveries.length, 1, 'the split leaves membership unchanged');
    h.publish(ready(C, D), 'geecache-2');
    await converge(h, [A, B, C, D]);
    server.deleteSlice(h.namespace, 'geecache-1');
    await converge(h, [A, C, D], 'self stays when its slice is deleted');
  });

  it('drops a terminating endpoint at once, even while it is still ready', async () => {
    const h = harness();
    h.publish(ready(A, B, C));
    start(h);
    await converge(h, [A, B, C]);
    h.publish([{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3', ready: true, serving: true, terminating: true }]);
    await converge(h, [A, B]);
  });

  it('keeps the last list while the API server is away for ~10 s (fast time), backs off, then converges', async () => {
    const delays: number[] = [];
    // 100× fast time with the production defaults for backoff: 10 s of outage takes 100 ms.
    const h = harness({ timers: fastTimers(100, delays), debounceMs: 500, backoffInitialMs: 500, backoffMaxMs: 30_000, random: () => 1 });
    h.publish(ready(A, B, C));
    start(h);
    await converge(h, [A, B, C]);
    await watching(h);
    await server.stop();
    try {
      h.publish(ready(A, B, D)); // membership changes while we cannot see it
      await waitFor(() => h.errors.length >= 4, 'several failed reconnects', 5000);
      assert.deepEqual(h.discovery.peers, [A, B, C], 'the last good list stays in force');
      assert.equal(h.deliveries.length, 1, 'nothing is delivered while the API is down');
      // random() = 1 makes full jitter its ceiling: 500, 1000, 2000, … (500 is also the debounce).
      assert.deepEqual(delays.filter((d) => d > 500).slice(0, 3), [1000, 2000, 4000], `delays ${JSON.stringify(delays)}`);
      assert.ok(h.logs.some((l) => l.level === 40 && /keeping the last peer list/.test(l.msg)), 'a warning is logged');
    } finally {
      await sleep(100); // ~10 s of fast time
      await server.restart();
    }
    await converge(h, [A, B, D], 'convergence after the API returns');
    assert.deepEqual(h.deliveries, [[A, B, C], [A, B, D]]);
    assert.ok(h.restarts.every((r) => r === 'error') && h.restarts.length >= 4);
  });

  it('relists after 410 Gone on the watch and converges', async () => {
    const h = harness();
    h.publish(ready(A, B, C));
    start(h);
    await converge(h, [A, B, C]);
    const lists = server.counts.lists;
    const expired = server.counts.expired;
    await watching(h);
    server.stallWatches(h.namespace); // the watch misses what follows...
    h.publish(ready(A, C, D));
    server.compact(); // ...and the history is gone
    server.endWatches(h.namespace);
    await converge(h, [A, C, D]);
    assert.equal(server.counts.expired, expired + 1);
    assert.equal(server.counts.lists, lists + 1);
    assert.equal(h.errors.length, 0, 'a 410 is handled by the informer, not an error');
  });

  it('counts 403 Forbidden as an error, keeps the last list, and recovers once allowed', async () => {
    const h = harness();
    h.publish(ready(A, B));
    start(h);
    await converge(h, [A, B]);
    await watching(h);
    server.forbid(true);
    try {
      server.endWatches(h.namespace); // the informer reconnects and is refused
      await waitFor(() => h.errors.length >= 2, 'two refused reconnects');
      assert.equal((h.errors[0] as { statusCode?: number }).statusCode, 403);
      h.publish(ready(A, B, C));
      await sleep(50);
      assert.deepEqual(h.discovery.peers, [A, B]);
    } finally {
      server.forbid(false);
    }
    await converge(h, [A, B, C]);
    const errors = h.errors.length;
    await sleep(100);
    assert.equal(h.errors.length, errors, 'no errors once allowed');
  });

  it('coalesces 20 membership events inside the debounce window into exactly one delivery', async () => {
    const h = harness({ debounceMs: 300 });
    h.publish(ready(A));
    start(h);
    await converge(h, [A]);
    const pool = [B, C, D, 'http://10.0.0.5:8001'];
    for (let i = 0; i < 20; i++) {
      h.publish(ready(A, ...pool.slice(0, 1 + (i % pool.length))));
      await sleep(5);
    }
    h.publish(ready(A, B, C));
    await converge(h, [A, B, C]);
    await sleep(350);
    assert.deepEqual(h.deliveries, [[A], [A, B, C]]);
  });

  it('is not listed while the API is down at start, and lists once it comes up', async () => {
    const h = harness();
    h.publish(ready(A, B));
    await server.stop();
    try {
      start(h);
      await waitFor(() => h.errors.length >= 2, 'failed lists');
      assert.equal(h.discovery.hasListed, false);
      assert.deepEqual(h.discovery.peers, []);
      assert.equal(h.deliveries.length, 0);
    } finally {
      await server.restart();
    }
    await converge(h, [A, B]);
    assert.equal(h.discovery.hasListed, true);
  });

  it('aborts a hung list after listTimeoutMs, counts it, and retries', async () => {
    const h = harness({ listTimeoutMs: 100 });
    h.publish(ready(A, B));
    server.delayLists(2000);
    try {
      start(h);
      await waitFor(() => h.errors.length >= 1, 'the list timeout', 5000);
      assert.match(String((h.errors[0] as Error).name), /AbortError|TimeoutError/);
      assert.equal(h.discovery.hasListed, false);
    } finally {
      server.delayLists(0);
    }
    await converge(h, [A, B]);
  });

  it('is not listed while forbidden at start', async () => {
    const h = harness();
    server.forbid(true);
    try {
      start(h);
      await waitFor(() => h.errors.length >= 1, 'a refused list');
      assert.equal((h.errors[0] as { code?: number }).code, 403);
      assert.equal(h.discovery.hasListed, false);
    } finally {
      server.forbid(false);
    }
    await converge(h, [A]);
  });

  it('resyncs on its own timer: a half-open watch does not hide changes for longer than resyncMs', async () => {
    const h = harness({ resyncMs: 150, random: () => 0.5 });
    h.publish(ready(A, B));
    start(h);
    await converge(h, [A, B]);
    await watching(h);
    server.stallWatches(h.namespace); // the connection stays open but nothing arrives: half-open
    h.publish(ready(A, B, C));
    await converge(h, [A, B, C], 'convergence through the resync', 2000);
    assert.ok(h.restarts.includes('resync'), `restarts ${JSON.stringify(h.restarts)}, errors ${h.errors.map(String).join('; ')}`);
    await waitFor(() => server.openWatchesIn(h.namespace) === 1, 'the stalled watch is closed, the new one open');
  });

  it('close() stops the watch and every timer; nothing is delivered afterwards', async () => {
    const h = harness({ resyncMs: 50 });
    h.publish(ready(A, B));
    start(h);
    await converge(h, [A, B]);
    await h.discovery.close();
    // Requests sent before close() (the watch after the first list, a resync) may still be on their way.
    await sleep(30);
    const before = server.requests.filter((r) => r.path.includes(`/${h.namespace}/`)).length;
    h.publish(ready(A, B, C));
    await sleep(150);
    assert.equal(h.deliveries.length, 1);
    assert.equal(server.requests.filter((r) => r.path.includes(`/${h.namespace}/`)).length, before, 'no requests after close()');
  });

  it('close() while the watch is still connecting aborts that watch too', async () => {
    const h = harness();
    h.publish(ready(A, B));
    server.delayWatches(100);
    try {
      start(h);
      await waitFor(() => server.requests.some((r) => r.kind === 'watch' && r.path.includes(`/${h.namespace}/`)), 'the watch request');
      await h.discovery.close();
      await sleep(200);
      h.publish(ready(A, B, C));
      await sleep(50);
      assert.equal(server.openWatchesIn(h.namespace), 0, 'the late watch was closed');
      assert.deepEqual(h.discovery.peers, [A, B]);
    } finally {
      server.delayWatches(0);
    }
  });

  it('keeps self when an update drops it, and survives a throwing listener', async () => {
    const h = harness();
    h.publish(ready(A, B));
    let calls = 0;
    h.discovery.start((peers) => {
      calls++;
      h.deliveries.push(peers);
      throw new Error('listener bug');
    });
    await converge(h, [A, B]);
    h.publish(ready(B, C));
    await converge(h, [A, B, C]);
    assert.equal(calls, 2);
    assert.ok(h.logs.some((l) => /self is not among the ready endpoints/.test(l.msg)));
    assert.ok(h.logs.some((l) => l.level === 50 && /listener threw/.test(l.msg)));
  });

  it('validates options, naming the bad one', () => {
    const kubeConfig = kubeConfigFor(server);
    const base = { kubeConfig, namespace: 'ns', service: 's', self };
    assert.throws(() => new KubernetesDiscovery({ ...base, service: '' }), { name: 'TypeError', message: /"service"/ });
    assert.throws(() => new KubernetesDiscovery({ ...base, debounceMs: -1 }), { message: /"debounceMs"/ });
    assert.throws(() => new KubernetesDiscovery({ ...base, backoffInitialMs: 100, backoffMaxMs: 10 }), { message: /"backoffMaxMs"/ });
  });
});
