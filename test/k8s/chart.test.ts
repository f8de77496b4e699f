// chart.test.ts installs the Helm chart on the real cluster and walks the README's path: helm install,
// port-forward, curl, /metrics, helm test; then the ServiceAccount's RBAC, the chart with every toggle on, and with
// an autoscaler.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { httpGet, metricValue } from '../../harness/cache-process.js';
import { dashboardText } from '../deploy/dashboard.js';
import { getJson, helm, kubectl, localImageValues, namespace, portForward, releasePods, ringsListExactly, waitUntil } from './support/kube.js';

const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const crdFiles = ['servicemonitor-crd.yaml', 'prometheusrule-crd.yaml'].map((f) => fileURLToPath(new URL(`../../../test/k8s/fixtures/${f}`, import.meta.url)));

/** helm install --wait with the local images; the pods' rings then list every pod. */
async function install(ns: string, release: string, values: string[] = []): Promise<void> {
  await helm(['install', release, chartDir, '--namespace', ns, '--wait', '--timeout', '180s', ...[...localImageValues, ...values].flatMap((v) => ['--set', v])]);
  const pods = await releasePods(ns, release);
  await waitUntil('every pod to list every pod in its ring', 30_000, () => ringsListExactly(pods));
}

describe('the Helm chart on a real cluster', () => {
  it('passes helm lint --strict', async () => {
    const { stdout } = await helm(['lint', '--strict', chartDir, ...localImageValues.flatMap((v) => ['--set', v])]);
    assert.match(stdout, /0 chart\(s\) failed/);
  });

  it("installs with defaults and answers the README's user path: port-forward, curl, /metrics, helm test", async () => {
    const ns = await namespace('chart-defaults');
    await install(ns, 'geecache');
    const pods = await releasePods(ns, 'geecache');
    assert.equal(pods.length, 3, 'replicaCount 3');

    // The README, literally: kubectl port-forward svc/geecache <port>:9999, then curl.
    const forward = await portForward(ns, 'svc/geecache', 9999);
    const scrape = async () => (await httpGet(`${forward.url}/metrics`)).body;
    const before = await scrape();
    assert.deepEqual(await httpGet(`${forward.url}/api?key=Tom`), { status: 200, body: '630' });
    assert.deepEqual(await httpGet(`${forward.url}/api?key=Tom`), { status: 200, body: '630' });
    assert.deepEqual(await httpGet(`${forward.url}/api?key=kkk`), { status: 404, body: 'kkk not exist\n' });
    const afterwards = await scrape();
    // The forward reaches one pod: its counters moved by exactly what it was asked.
    const moved = (name: string, labels: Record<string, string> = { group: 'scores' }) =>
      (metricValue(afterwards, name, labels) ?? 0) - (metricValue(before, name, labels) ?? 0);
    assert.equal(moved('geecache_gets_total'), 3);
    // Tom's second get is a hit when this pod owns Tom (or sampled it into its hot cache), else a
    // second fetch from the owner; kkk is a load either way.
    assert.equal(moved('geecache_loads_total') + moved('geecache_cache_hits_total'), 3);
    assert.ok(moved('geecache_loads_total') >= 2);
    forward.close();

    // The test pod curls the API Service by its DNS name and checks the body is 630 (templates/tests/).
    const test = await helm(['test', 'geecache', '--namespace', ns]);
    assert.match(test.stdout, /Phase:\s+Succeeded/);
  });

  it("gives the chart's ServiceAccount exactly list and watch on EndpointSlices in its namespace", async () => {
    const ns = await namespace('chart-rbac');
    await install(ns, 'rbac', ['replicaCount=1']);
    // The chart names its objects <release>-geecache (helm create's fullname rule).
    const token = (await kubectl(['create', 'token', 'rbac-geecache', '-n', ns, '--duration', '10m'])).stdout.trim();
    const as = ['--token', token];
    const can = async (verb: string, resource: string, where: string) =>
      (await kubectl(['auth', 'can-i', verb, resource, '-n', where, ...as]).catch((err: Error) => ({ stdout: err.message }))).stdout.trim().split('\n').pop();
    assert.equal(await can('list', 'endpointslices.discovery.k8s.io', ns), 'yes');
    assert.equal(await can('watch', 'endpointslices.discovery.k8s.io', ns), 'yes');
    // And for real, not only as the authorizer's opinion:
    const slices = JSON.parse((await kubectl(['get', 'endpointslices', '-n', ns, '-o', 'json', ...as])).stdout) as { items: unknown[] };
    assert.ok(slices.items.length >= 1);
    for (const [resource, where] of [['pods', ns], ['secrets', ns], ['endpointslices', 'default'], ['endpointslices', 'kube-system']] as const) {
      await assert.rejects(kubectl(['get', resource, '-n', where, ...as]), /Forbidden|forbidden/, `${resource} in ${where}`);
    }
    for (const verb of ['create', 'delete', 'update']) assert.equal(await can(verb, 'endpointslices.discovery.k8s.io', ns), 'no', verb);
  });

  it('installs with every toggle on (ServiceMonitor and PrometheusRule with their CRDs) and passes helm test', async () => {
    for (const file of crdFiles) await kubectl(['apply', '-f', file]);
    for (const crd of ['servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com']) {
      await waitUntil(`the CRD ${crd} to be established`, 30_000, async () =>
        (await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])).stdout === 'True',
      );
    }
    const ns = await namespace('chart-all');
    await install(ns, 'all', [
      'serviceMonitor.enabled=true',
      'podDisruptionBudget.enabled=true',
      'networkPolicy.enabled=true',
      'metrics.podAnnotations=true',
      'rbac.create=true',
      'serviceAccount.create=true',
      'prometheusRule.enabled=true',
      'grafanaDashboard.enabled=true',
    ]);
    const monitor = await getJson<{ spec: { endpoints: Array<{ port: string; path: string }> } }>(['servicemonitor', 'all-geecache', '-n', ns]);
    assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [['http', '/metrics']]);
    for (const kind of ['poddisruptionbudget', 'networkpolicy', 'role', 'rolebinding', 'serviceaccount', 'prometheusrule']) {
      assert.ok((await getJson<{ items: unknown[] }>([kind, '-n', ns])).items.length >= 1, kind);
    }
    // The dashboard (about 22 kB of JSON) is stored as the chart read it.
    const dashboard = await getJson<{ metadata: { labels: Record<string, string> }; data: Record<string, string> }>(['configmap', 'all-geecache-dashboard', '-n', ns]);
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.equal(dashboard.data['geecache.json'], dashboardText());
    const test = await helm(['test', 'all', '--namespace', ns]);
    assert.match(test.stdout, /Phase:\s+Succeeded/);
  });

  it('installs with autoscaling on: the API server accepts the HPA, and it drives the StatefulSet', async () => {
    // This cluster runs no metrics-server, so the HPA never reads CPU or memory (its ScalingActive
    // condition stays False). What it does without metrics is raise a StatefulSet below minReplicas,
    // which shows that its scaleTargetRef reaches the chart's StatefulSet (created without replicas, so 1).
    const ns = await namespace('chart-hpa');
    await helm(['install', 'hpa', chartDir, '--namespace', ns, '--wait', '--timeout', '180s', ...[...localImageValues, 'autoscaling.enabled=true', 'autoscaling.minReplicas=2', 'autoscaling.maxReplicas=4'].flatMap((v) => ['--set', v])]);
    const hpa = await getJson<{ apiVersion: string; spec: { scaleTargetRef: unknown; minReplicas: number; maxReplicas: number; metrics: Array<{ resource: { name: string } }> } }>(['hpa', 'hpa-geecache', '-n', ns]);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'hpa-geecache' });
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 4]);
    assert.deepEqual(hpa.spec.metrics.map((m) => m.resource.name), ['cpu']);
    await waitUntil('the HPA to raise the StatefulSet to minReplicas', 120_000, async () =>
      (await getJson<{ spec: { replicas?: number } }>(['statefulset', 'hpa-geecache', '-n', ns])).spec.replicas === 2,
    );
    await waitUntil('two pods, each listing both in its ring', 180_000, async () => {
      const pods = await releasePods(ns, 'hpa');
      return pods.length === 2 && ringsListExactly(pods);
    });
  });
});
