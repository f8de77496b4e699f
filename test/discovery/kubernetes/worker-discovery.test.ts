// worker-discovery.test.ts runs the discovery worker thread against the fake API server, and the Discovery contract on it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WorkerDiscovery } from '../../../src/discovery/kubernetes/worker-discovery.js';
import type { KubernetesWorkerSettings } from '../../../src/discovery/kubernetes/worker-protocol.js';
import { ConfigError } from '../../../src/errors.js';
import { FakeKubeApiServer, endpointSlice, writeKubeConfigFile } from '../../../harness/fake-kube-apiserver.js';
import { waitFor } from '../../../harness/wait.js';
import { discoverySuite } from '../discovery.shared.js';

const dir = mkdtempSync(join(tmpdir(), 'geecache-worker-discovery-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function settings(overrides: Partial<KubernetesWorkerSettings>): KubernetesWorkerSettings {
  return {
    kubeconfig: undefined,
    inCluster: false,
    namespace: 'ns',
    service: 'geecache-peers',
    self: 'http://10.0.0.1:8001',
    portName: 'peer',
    debounceMs: 50,
    logLevel: 'silent',
    logFormat: 'json',
    logBase: {},
    ...overrides,
  };
}

// One fake API server for the contract, a namespace per discovery so that none sees another's slices.
let contractApi: Promise<FakeKubeApiServer> | undefined;
let contractNamespaces = 0;
after(async () => await (await contractApi)?.close());

discoverySuite('WorkerDiscovery', {
  self: settings({}).self,
  firstDeliveryTimeoutMs: 20_000,
  create: async (others) => {
    const api = await (contractApi ??= FakeKubeApiServer.start());
    const namespace = `contract-${++contractNamespaces}`;
    api.applySlice(namespace, endpointSlice({ name: 'peers-a', service: 'geecache-peers', endpoints: others.map((url) => ({ ip: new URL(url).hostname })) }));
    const kubeconfig = writeKubeConfigFile(api, join(dir, namespace), namespace);
    return { discovery: new WorkerDiscovery({ settings: settings({ kubeconfig, namespace }), logger: pino({ level: 'silent' }), closeTimeoutMs: 60_000 }) };
  },
});

test('the worker delivers the peer list and its changes, and close() ends it', { timeout: 30_000 }, async () => {
  const api = await FakeKubeApiServer.start();
  after(() => api.close());
  api.applySlice('ns', endpointSlice({ name: 'peers-a', service: 'geecache-peers', endpoints: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }));
  const lists: string[][] = [];
  // A close timeout beyond the test's: the test finishing means the worker ended by itself.
  const discovery = new WorkerDiscovery({
    settings: settings({ kubeconfig: writeKubeConfigFile(api, join(dir, 'ok'), 'ns') }),
    logger: pino({ level: 'silent' }),
    closeTimeoutMs: 60_000,
  });
  discovery.start((peers) => lists.push([...peers]));
  await discovery.ready;
  await waitFor(() => discovery.hasListed, 10_000, 'the first list');
  assert.deepEqual(discovery.peers, ['http://10.0.0.1:8001', 'http://10.0.0.2:8001']);

  api.applySlice('ns', endpointSlice({ name: 'peers-a', service: 'geecache-peers', endpoints: [{ ip: '10.0.0.1' }, { ip: '10.0.0.3' }] }));
  await waitFor(() => discovery.peers.includes('http://10.0.0.3:8001'), 10_000, 'the changed list');
  assert.deepEqual(lists.at(-1), ['http://10.0.0.1:8001', 'http://10.0.0.3:8001']);

  const neverStarted = new WorkerDiscovery({ settings: settings({}), logger: pino({ level: 'silent' }) });
  await neverStarted.close();
  await discovery.close();
  api.applySlice('ns', endpointSlice({ name: 'peers-a', service: 'geecache-peers', endpoints: [{ ip: '10.0.0.4' }] }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(discovery.peers, ['http://10.0.0.1:8001', 'http://10.0.0.3:8001'], 'no lists after close');
});

test('a kubeconfig that cannot be read rejects ready with a ConfigError; start() itself does not throw', { timeout: 30_000 }, async () => {
  const errors: unknown[] = [];
  const discovery = new WorkerDiscovery({ settings: settings({ kubeconfig: join(dir, 'missing') }), logger: pino({ level: 'silent' }), onError: () => errors.push(1) });
  discovery.start(() => assert.fail('no list expected'));
  await assert.rejects(discovery.ready, (err: unknown) => err instanceof ConfigError && /discovery: .*missing/.test(err.message));
  assert.equal(discovery.hasListed, false);
  await discovery.close();
});

test('close() while the worker is still starting ends it, and ready resolves: a shutdown is not a failure', { timeout: 30_000 }, async () => {
  const api = await FakeKubeApiServer.start();
  after(() => api.close());
  const discovery = new WorkerDiscovery({
    settings: settings({ kubeconfig: writeKubeConfigFile(api, join(dir, 'starting'), 'ns') }),
    logger: pino({ level: 'silent' }),
    closeTimeoutMs: 60_000,
  });
  discovery.start(() => {});
  await discovery.close(); // the worker is still loading client-node
  await discovery.ready;
  assert.equal(discovery.hasListed, false);
});
