// deploy.test.ts applies the plain manifests (`kubectl apply -k deploy/`) on the real cluster and asks the API.
// scripts/test-k8s.mjs gives the local image the name deploy/statefulset.yaml pulls, so nothing is patched.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { httpGet } from '../../harness/cache-process.js';
import { kubectl, namespace, portForward, releasePods, ringsListExactly, waitUntil } from './support/kube.js';

const deployDir = fileURLToPath(new URL('../../../deploy', import.meta.url));

it('kubectl apply -k deploy/ brings up a ring of three that answers through its Service', async () => {
  const ns = await namespace('deploy-kustomize');
  // README.md's first step: the peer token's Secret.
  await kubectl(['create', 'secret', 'generic', 'geecache-tokens', '--from-literal=peer-token=a-peer-token-of-the-deploy-test', '-n', ns]);
  await kubectl(['apply', '-k', deployDir, '-n', ns]);
  await kubectl(['rollout', 'status', 'statefulset/geecache', '-n', ns, '--timeout=180s'], { timeoutMs: 200_000 });
  const pods = await releasePods(ns, 'geecache');
  assert.equal(pods.length, 3);
  await waitUntil('every pod to list the three', 30_000, () => ringsListExactly(pods));
  const forward = await portForward(ns, 'svc/geecache', 9999);
  assert.deepEqual(await httpGet(`${forward.url}/api?key=Tom`), { status: 200, body: '630' });
  assert.deepEqual(await httpGet(`${forward.url}/api?key=Jack`), { status: 200, body: '589' });
  forward.close();
});
