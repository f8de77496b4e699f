import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CacheNode } from '../src/cache-node.js';
import { loadConfig } from '../src/config.js';
import { FakeKubeApiServer, endpointSlice, writeKubeConfigFile } from '../harness/fake-kube-apiserver.js';
import { waitFor } from '../harness/wait.js';

test('kubernetes mode outside a pod takes the namespace from the kubeconfig context', async () => {
  const api = await FakeKubeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'geecache-kubeconfig-'));
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  api.applySlice('ctx-ns', endpointSlice({ name: 'peers-a', service: 'geecache-peers', endpoints: [{ ip: '127.0.0.1' }, { ip: '127.0.0.9' }] }));
  const config = loadConfig({
    GEECACHE_DISCOVERY: 'kubernetes',
    GEECACHE_SERVICE: 'geecache-peers',
    GEECACHE_SELF: 'http://127.0.0.1:8001', // the port its slice publishes; it listens on a free one
    GEECACHE_PORT: '0',
    GEECACHE_HTTP_PORT: '0',
    GEECACHE_BIND: '127.0.0.1',
    KUBECONFIG: writeKubeConfigFile(api, join(dir, 'config'), 'ctx-ns'),
  });
  const node = new CacheNode({ config, logger: pino({ level: 'silent' }), defaultMetrics: false });
  after(() => node.close());
  await node.start();
  await waitFor(() => node.discovery.hasListed, 5000, 'the first list');
  assert.deepEqual(node.ring.peers, ['http://127.0.0.1:8001', 'http://127.0.0.9:8001']);
  assert.equal(node.notReadyReason(), undefined);
});
