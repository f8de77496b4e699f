// forged-slice.test.ts tries issue 28's second attack on the real cluster: an EndpointSlice made by hand (no
// managed-by label of the EndpointSlice controller, an endpoint that is no Pod) with the peers Service's name
// label and a fake address. Before the fix it joined every ring within seconds; now no pod may list it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cluster, getJson, helm, isReady, kubectl, localImageValues, namespace, releasePods, ringOf, ringsListExactly, waitUntil } from './support/kube.js';

const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const RELEASE = 'forged';
/** Nothing listens there: the address only has to be one a ring could list. */
const FAKE_PORT = 8001;

describe('a forged EndpointSlice', () => {
  // after() called inside before() would run when before() ends: the suite keeps its own list.
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let ns: string;

  before(async () => {
    ns = await namespace('forged-slice', (fn) => cleanups.push(fn));
    await helm(['install', RELEASE, chartDir, '--namespace', ns, '--wait', '--timeout', '180s', '--set', 'replicaCount=2', ...localImageValues.flatMap((v) => ['--set', v])]);
    await waitUntil('2 Ready pods whose rings list each other', 120_000, async () => {
      const pods = (await releasePods(ns, RELEASE)).filter(isReady);
      return pods.length === 2 && ringsListExactly(pods);
    });
  });

  it("with the peers Service's label and a fake address is ignored: no pod's /debug/ring lists it", async () => {
    const service = `${RELEASE}-geecache-peers`;
    await getJson(['service', service, '-n', ns]); // the label names a Service that exists
    const fake = `http://${cluster.nodeIp}:${FAKE_PORT}`;
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${service}-forged`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports: [{ name: 'peer', port: FAKE_PORT, protocol: 'TCP' }],
      endpoints: [{ addresses: [cluster.nodeIp], conditions: { ready: true } }],
    };
    await kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(slice) });
    await getJson(['endpointslice', slice.metadata.name, '-n', ns]);
    // The issue saw the forged address joined within 5 s; debounce is 500 ms: 15 s leaves room.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const pods = (await releasePods(ns, RELEASE)).filter(isReady);
      for (const pod of pods) assert.ok(!(await ringOf(pod)).includes(fake), `${pod.metadata.name}'s ring lists the forged ${fake}`);
      await sleep(1000);
    }
    const pods = (await releasePods(ns, RELEASE)).filter(isReady);
    assert.equal(await ringsListExactly(pods), true, 'every ring still lists exactly the Ready pods');
  });
});
