// kubeconfig.test.ts checks where discovery takes its credentials and namespace from.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, namespaceFor, podNamespace } from '../../../src/discovery/kubernetes/kubeconfig.js';
import { FakeKubeApiServer, writeKubeConfigFile } from '../../../harness/fake-kube-apiserver.js';

let server: FakeKubeApiServer;
before(async () => {
  server = await FakeKubeApiServer.start();
});
after(async () => {
  await server.close();
});

const missingFile = (): string => {
  throw new Error('ENOENT');
};

describe('podNamespace, namespaceFor and loadKubeConfig', () => {
  it('prefers POD_NAMESPACE, then the service account file, else names both', () => {
    assert.equal(podNamespace({ POD_NAMESPACE: 'prod' }, () => 'ignored'), 'prod');
    assert.equal(podNamespace({}, () => 'from-file\n'), 'from-file');
    assert.throws(() => podNamespace({}, missingFile), /POD_NAMESPACE/);
  });

  it("falls back to the kubeconfig context's namespace outside a cluster", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u', namespace: 'from-context' }],
      currentContext: 'ctx',
    });
    assert.equal(namespaceFor(kc, 'from-env'), 'from-env');
    // The service account file does not exist on a test machine, so the context decides.
    assert.equal(namespaceFor(kc, undefined), 'from-context');
  });

  it('loads KUBECONFIG when given, even where in-cluster credentials exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geecache-kc-'));
    try {
      const path = writeKubeConfigFile(server, join(dir, 'config'));
      const kc = loadKubeConfig({ KUBECONFIG: path, KUBERNETES_SERVICE_HOST: '10.96.0.1' });
      assert.equal(kc.getCurrentCluster()?.server, server.url, 'an explicit KUBECONFIG wins over in-cluster');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
