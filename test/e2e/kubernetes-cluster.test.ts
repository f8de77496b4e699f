// kubernetes-cluster.test.ts runs three real geecache processes with Kubernetes discovery against the fake API server.
//
// Each process is a "pod" on its own loopback address (127.0.0.2-4), all on the same
// ports, finding the others through the EndpointSlices of Service geecache-peers. The
// scenarios run in order and build on each other's state: converge and load each key
// once; a pod turns not-ready and back; the API server goes away and returns with a
// different membership; a fourth pod starts while the API server forbids it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApiServer, endpointSlice, writeKubeConfigFile, type TestEndpoint } from '../../harness/fake-kube-apiserver.js';
import { CacheProcess, metricValue } from '../../harness/cache-process.js';
import { kubePodEnv } from '../../harness/kube-ring.js';
import { freePortOnAll } from '../../harness/ports.js';
import { sleep } from '../../harness/wait.js';

const NAMESPACE = 'geecache-e2e';
const SERVICE = 'geecache-peers';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;
/** The late pod of the readiness scenario. */
const LATE_HOST = '127.0.0.5';
const KEYS = Array.from({ length: 30 }, (_, i) => `player-${i}`);

interface Ring {
  self: string;
  peers: string[];
  replicas: number;
  key?: string;
  owner?: string | null;
}

/** The origin all pods load from: `value-of-<key>` after 20 ms, counting requests per key. */
interface Origin {
  url: string;
  counts: Map<string, number>;
  close(): Promise<void>;
}

async function startOrigin(): Promise<Origin> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '/').slice(1));
    counts.set(key, (counts.get(key) ?? 0) + 1);
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`value-of-${key}`), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Kubernetes discovery across three processes', { timeout: 55_000 }, () => {
  let api: FakeKubeApiServer;
  let origin: Origin;
  let dir: string;
  let kubeconfig: string;
  let peerPort: number;
  let httpPort: number;
  const pods: CacheProcess[] = [];
  /** pods[i]'s peer URL. */
  const peerUrl = (host: string): string => `http://${host}:${peerPort}`;
  const urls = (...indexes: number[]): string[] => indexes.map((i) => peerUrl(HOSTS[i]!)).sort();

  function startPod(name: string, host: string): CacheProcess {
    const pod = new CacheProcess({
      name,
      host,
      httpPort,
      env: {
        ...kubePodEnv({ host, peerPort, httpPort, kubeconfig, namespace: NAMESPACE, service: SERVICE }),
        GEECACHE_GROUPS: `scores:8MiB:${origin.url}`,
        GEECACHE_DRAIN_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'warn',
      },
    });
    pods.push(pod);
    return pod;
  }

  /**
   * Publishes the pods in two slices, as the EndpointSlice controller may split a
   * Service: slice -a holds pods 0 and 1, slice -b pod 2. Absent pods are left out.
   */
  function publish(members: Partial<Record<0 | 1 | 2, Omit<TestEndpoint, 'ip'>>>): void {
    const endpoints = (indexes: Array<0 | 1 | 2>): TestEndpoint[] =>
      indexes.filter((i) => members[i] !== undefined).map((i) => ({ ip: HOSTS[i], ...members[i] }));
    api.applySlice(NAMESPACE, endpointSlice({ name: `${SERVICE}-a`, service: SERVICE, port: peerPort, endpoints: endpoints([0, 1]) }));
    api.applySlice(NAMESPACE, endpointSlice({ name: `${SERVICE}-b`, service: SERVICE, port: peerPort, endpoints: endpoints([2]) }));
  }

  const logs = (): string => pods.map((p) => p.describe()).join('\n');

  /**
   * Polls `check` every 100 ms until it returns undefined; it returns what is still
   * wrong otherwise, which the failure message shows along with every pod's output.
   * Fails at once when a pod has exited.
   */
  async function waitUntil(what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let state: string | undefined = 'not checked yet';
    while (Date.now() < deadline) {
      const dead = pods.filter((p) => p.hasExited);
      if (dead.length > 0) assert.fail(`${dead.map((p) => p.name).join(', ')} exited while waiting for ${what}\n${logs()}`);
      try {
        state = await check();
      } catch (err) {
        state = `check threw: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (state === undefined) return;
      await sleep(100);
    }
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${state}\n${logs()}`);
  }

  async function ringOf(pod: CacheProcess, key?: string): Promise<Ring> {
    const answer = await pod.get(`/debug/ring${key === undefined ? '' : `?key=${encodeURIComponent(key)}`}`);
    assert.equal(answer.status, 200, `${pod.name} /debug/ring: ${answer.body}`);
    return JSON.parse(answer.body) as Ring;
  }

  async function metric(pod: CacheProcess, name: string, labels?: Record<string, string>): Promise<number> {
    const answer = await pod.get('/metrics');
    assert.equal(answer.status, 200, `${pod.name} /metrics`);
    const value = metricValue(answer.body, name, labels);
    assert.ok(value !== undefined, `${pod.name} exports no ${name}${JSON.stringify(labels ?? {})}\n${pod.describe()}`);
    return value;
  }

  /** Waits until every pod in `expected` has exactly that peer list (canonical order). */
  function ringsBecome(what: string, expected: Map<CacheProcess, string[]>, timeoutMs: number): Promise<void> {
    return waitUntil(what, timeoutMs, async () => {
      const wrong: string[] = [];
      for (const [pod, peers] of expected) {
        const ring = await ringOf(pod);
        if (JSON.stringify(ring.peers) !== JSON.stringify(peers)) wrong.push(`${pod.name} has ${JSON.stringify(ring.peers)}, want ${JSON.stringify(peers)}`);
      }
      return wrong.length > 0 ? wrong.join('; ') : undefined;
    });
  }

  async function assertValue(pod: CacheProcess, key: string): Promise<void> {
    const answer = await pod.get(`/api?key=${encodeURIComponent(key)}`);
    assert.deepEqual(answer, { status: 200, body: `value-of-${key}` }, `${pod.name} GET /api?key=${key}\n${pod.describe()}`);
  }

  before(async () => {
    api = await FakeKubeApiServer.start({ host: '127.0.0.1', port: 0 });
    origin = await startOrigin();
    dir = mkdtempSync(join(tmpdir(), 'geecache-e2e-'));
    kubeconfig = writeKubeConfigFile(api, join(dir, 'kubeconfig'), NAMESPACE);
    const hosts = [...HOSTS, LATE_HOST];
    peerPort = await freePortOnAll(hosts);
    httpPort = await freePortOnAll(hosts, [peerPort]);
    publish({ 0: {}, 1: {}, 2: {} });
    HOSTS.forEach((host, i) => startPod(`pod-${i}`, host));
    // Starting is slow on a busy machine (client-node alone takes about a second to import); converging is not.
    await waitUntil('every pod to answer /healthz', 20_000, async () => {
      const answers = await Promise.all(pods.map((p) => p.get('/healthz').then((a) => a.status, (err: Error) => err.message)));
      return answers.every((a) => a === 200) ? undefined : JSON.stringify(answers);
    });
  }, { timeout: 30_000 });

  after(async () => {
    await Promise.all(pods.map((p) => p.stop()));
    await api?.close();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // SIGTERM is a graceful shutdown: exit code 0 within the grace period, not a SIGKILL.
    const unclean = pods.filter((p) => p.child.exitCode !== 0);
    assert.equal(unclean.length, 0, `not cleanly stopped by SIGTERM:\n${unclean.map((p) => p.describe()).join('\n')}`);
  });

  it('converges on one ring and loads every key exactly once, at its owner', { timeout: 20_000 }, async () => {
    const all = urls(0, 1, 2);
    await ringsBecome('all three rings to list all three pods', new Map(pods.map((p) => [p, all])), 10_000);
    for (const pod of pods) {
      const ring = await ringOf(pod);
      assert.equal(ring.self, peerUrl(HOSTS[pods.indexOf(pod)]!), `${pod.name} self`);
      assert.deepEqual(await pod.get('/readyz'), { status: 200, body: 'ready\n' }, `${pod.name} /readyz`);
    }

    // Every key through every pod at once: 90 requests, 30 distinct keys.
    await Promise.all(pods.flatMap((pod) => KEYS.map((key) => assertValue(pod, key))));

    // The owner of each key, as every pod sees it (they must agree).
    const owners = new Map<string, string>();
    for (const key of KEYS) {
      const seen = await Promise.all(pods.map(async (pod) => (await ringOf(pod, key)).owner));
      assert.ok(seen.every((o) => o === seen[0] && typeof o === 'string'), `owner of ${key} per pod: ${JSON.stringify(seen)}`);
      owners.set(key, seen[0]!);
    }

    const group = { group: 'scores' };
    let localLoads = 0;
    for (const pod of pods) {
      const self = (await ringOf(pod)).self;
      const owned = KEYS.filter((k) => owners.get(k) === self).length;
      const local = await metric(pod, 'geecache_local_loads_total', group);
      // A pod loads from the source exactly the keys it owns, and asks the owner for the rest.
      assert.equal(local, owned, `${pod.name} local loads = keys it owns\n${pod.describe()}`);
      assert.equal(await metric(pod, 'geecache_peer_loads_total', group), KEYS.length - owned, `${pod.name} peer loads = keys others own`);
      assert.equal(await metric(pod, 'geecache_peer_errors_total', group), 0, `${pod.name} peer errors`);
      localLoads += local;
    }
    assert.equal(localLoads, KEYS.length, 'loads cluster-wide = distinct keys');
    assert.deepEqual(
      [...origin.counts].sort(([a], [b]) => a.localeCompare(b)),
      KEYS.map((k) => [k, 1] as const).sort(([a], [b]) => a.localeCompare(b)),
      'the origin saw every key exactly once',
    );
  });

  it('drops a pod that turns not-ready and takes it back when ready again', { timeout: 15_000 }, async () => {
    const [p0, p1, p2] = pods as [CacheProcess, CacheProcess, CacheProcess];
    publish({ 0: {}, 1: {}, 2: { ready: false } });
    // pod-2 keeps itself in its own ring: self is always a member (documented in discovery.ts).
    await ringsBecome(
      'pod-2 to leave the rings of pod-0 and pod-1',
      new Map([
        [p0, urls(0, 1)],
        [p1, urls(0, 1)],
        [p2, urls(0, 1, 2)],
      ]),
      5000,
    );
    await assertValue(p0, 'while-pod-2-is-out');

    publish({ 0: {}, 1: {}, 2: {} });
    await ringsBecome('all three rings to list all three pods again', new Map(pods.map((p) => [p, urls(0, 1, 2)])), 5000);
  });

  it('keeps its ring through an API server outage and catches up afterwards', { timeout: 30_000 }, async () => {
    const [p0, p1, p2] = pods as [CacheProcess, CacheProcess, CacheProcess];
    const before = await Promise.all(pods.map((p) => ringOf(p)));
    await api.stop();
    await sleep(2000);
    for (const [i, pod] of pods.entries()) {
      assert.deepEqual((await ringOf(pod)).peers, before[i]!.peers, `${pod.name} ring during the outage`);
      await assertValue(pod, KEYS[0]!);
      await assertValue(pod, `during-outage-${i}`);
    }

    // pod-1 goes away while nobody is watching.
    publish({ 0: {}, 2: {} });
    await api.restart();
    await ringsBecome(
      'pod-0 and pod-2 to drop pod-1 after the API server returns',
      new Map([
        [p0, urls(0, 2)],
        [p1, urls(0, 1, 2)],
        [p2, urls(0, 2)],
      ]),
      25_000,
    );
    // pod-1's ring does not change; its watch must be back too before the next scenario.
    await waitUntil('three open watches', 25_000, async () => {
      const open = api.openWatchesIn(NAMESPACE);
      return open >= 3 ? undefined : `${open} open watches`;
    });
    for (const pod of pods) {
      const errors = await metric(pod, 'geecache_discovery_errors_total');
      assert.ok(errors > 0, `${pod.name} counted ${errors} discovery errors during the outage\n${pod.describe()}`);
    }
  });

  it('a pod started while the API server forbids it is live but not ready until it lists', { timeout: 25_000 }, async () => {
    api.forbid(true);
    const forbiddenBefore = api.counts.forbidden;
    const late = startPod('pod-3', LATE_HOST);
    await waitUntil('pod-3 to answer /healthz and be refused a list', 10_000, async () => {
      const health = await late.get('/healthz');
      if (health.status !== 200) return `/healthz ${health.status}`;
      return api.counts.forbidden > forbiddenBefore ? undefined : 'no forbidden request yet';
    });
    // Not ready, and it stays so while every list is refused.
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await late.get('/readyz'), { status: 503, body: 'not ready: waiting for the first peer list\n' }, `pod-3 /readyz\n${late.describe()}`);
      assert.equal((await late.get('/healthz')).status, 200, 'pod-3 /healthz');
      await sleep(300);
    }

    api.forbid(false);
    await waitUntil('pod-3 to become ready', 20_000, async () => {
      const ready = await late.get('/readyz');
      return ready.status === 200 ? undefined : `/readyz ${ready.status} ${ready.body.trim()}`;
    });
    // Its ring is the published membership (pod-0, pod-2) plus itself.
    assert.deepEqual((await ringOf(late)).peers, [...urls(0, 2), `http://${LATE_HOST}:${peerPort}`].sort());
    assert.ok((await metric(late, 'geecache_discovery_errors_total')) > 0, 'pod-3 counted the forbidden lists');
    await assertValue(late, KEYS[1]!);
  });
});
