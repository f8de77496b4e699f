// prometheus.test.ts lets a real Prometheus find the pods by the chart's annotations (kubernetes_sd_configs, role
// pod) with a ServiceAccount of its own and least RBAC, then asks it the README's hit ratio, every query of the
// chart's Grafana dashboard, and evaluates the chart's alerts on the pods' real series.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { httpGet } from '../../harness/cache-process.js';
import { instantQuery, loadedRules, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { loadDashboard, panelExpressions, substitute } from '../deploy/dashboard.js';
import { cluster, helm, kubectl, localImageValues, namespace, portForward, releasePods, waitUntil } from './support/kube.js';

const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const metricsDoc = readFileSync(fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url)), 'utf8');
/** The scrape job below: the alerts are narrowed to it (its series carry no namespace label). */
const JOB = 'geecache';

/** Prometheus's least RBAC for pod discovery in one namespace: get, list and watch pods, nothing else. */
const rbac = (ns: string) => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: prometheus, namespace: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: prometheus-pods, namespace: ${ns} }
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: prometheus-pods, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: prometheus-pods }
subjects:
  - { kind: ServiceAccount, name: prometheus, namespace: ${ns} }
`;

async function query(base: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const answer = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

/** The chart's alert rules as a Prometheus rule file, narrowed to this test's scrape job. */
async function chartRuleFile(dir: string): Promise<string> {
  const values = join(dir, 'rule-values.yaml');
  writeFileSync(values, stringify({ prometheusRule: { enabled: true, selector: `job="${JOB}"` } }));
  const { stdout } = await helm(['template', 'prom', chartDir, '-f', values, '--show-only', 'templates/prometheusrule.yaml']);
  const rule = parse(stdout) as { spec: { groups: unknown[] } };
  const file = join(dir, 'rules.yml');
  writeFileSync(file, stringify({ groups: rule.spec.groups }));
  return file;
}

describe('Prometheus on the chart', { skip: !cluster.prometheus && 'no Prometheus binary' }, () => {
  // after() called inside before() would run when before() ends: the suite keeps its own list.
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let base = '';
  let prometheus: RunningPrometheus;

  before(async () => {
    const ns = await namespace('prometheus', (fn) => cleanups.push(fn));
    // A second group whose origin nothing listens on: its loads fail, which the load-error alert must see.
    const groups = [{ name: 'scores', bytes: '64MiB', source: 'demo' }, { name: 'broken', bytes: '1MiB', source: 'http://127.0.0.1:9' }];
    await helm([
      'install', 'prom', chartDir, '--namespace', ns, '--wait', '--timeout', '180s',
      ...localImageValues.flatMap((v) => ['--set', v]), '--set-json', `groups=${JSON.stringify(groups)}`,
    ]);
    await kubectl(['apply', '-f', '-'], { input: rbac(ns) });

    const dir = mkdtempSync(join(tmpdir(), 'geecache-prometheus-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = JSON.parse((await kubectl(['config', 'view', '--raw', '-o', 'json'])).stdout) as {
      clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }>;
    };
    const apiServer = kubeconfig.clusters[0]!.cluster;
    const caFile = join(dir, 'ca.crt');
    if (apiServer['certificate-authority-data']) writeFileSync(caFile, Buffer.from(apiServer['certificate-authority-data'], 'base64'));
    else writeFileSync(caFile, readFileSync(apiServer['certificate-authority']!));
    writeFileSync(join(dir, 'token'), (await kubectl(['create', 'token', 'prometheus', '-n', ns, '--duration', '1h'])).stdout.trim());
    const rules = await chartRuleFile(dir);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${rules}]
scrape_configs:
  - job_name: ${JOB}
    kubernetes_sd_configs:
      - role: pod
        api_server: ${apiServer.server}
        namespaces: { names: [${ns}] }
        authorization: { credentials_file: ${join(dir, 'token')} }
        tls_config: { ca_file: ${caFile} }
    relabel_configs:
      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true" }
      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], target_label: __metrics_path__, regex: "(.+)" }
      - source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: "(.+);(.+)"
        replacement: "$1:$2"
        target_label: __address__
      - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }
`,
    );
    prometheus = await startPrometheus(cluster.prometheus!, join(dir, 'prometheus.yml'), join(dir, 'data'));
    cleanups.push(() => prometheus.stop());
    base = prometheus.base;

    // Three pods found through the API, each scraped at its annotated port and path.
    await waitUntil('three healthy targets', 60_000, async () => {
      const targets = JSON.parse((await httpGet(`${base}/api/v1/targets`)).body) as { data: { activeTargets: Array<{ health: string; scrapeUrl: string }> } };
      const up = targets.data.activeTargets.filter((t) => t.health === 'up');
      return up.length === 3 && up.every((t) => /^http:\/\/10\.244\.\d+\.\d+:9999\/metrics$/.test(t.scrapeUrl));
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${prometheus.log().slice(-4000)}`);
    });

    const forward = await portForward(ns, 'svc/prom-geecache', 9999);
    for (let i = 0; i < 50; i++) assert.equal((await httpGet(`${forward.url}/api?key=Tom`)).body, '630');
    forward.close();
    // Keys owned everywhere, asked at every pod: each pod also fetches from its peers (404s from the demo source).
    const pods = await releasePods(ns, 'prom');
    for (const pod of pods) for (let i = 0; i < 20; i++) assert.equal((await httpGet(`http://${pod.status.podIP!}:9999/api?key=missing-${i}`)).status, 404);
    for (const pod of pods) for (let i = 0; i < 20; i++) assert.equal((await httpGet(`http://${pod.status.podIP!}:9999/api?group=broken&key=b-${i}`)).status, 502);
  });

  it("answers the README's hit ratio and holds every metric docs/metrics.md names", async () => {
    // The README's query, as a user pastes it.
    const hitRatio = /```promql\n([^\n]+)\n```/.exec(readme)?.[1];
    assert.ok(hitRatio, 'the README shows a PromQL hit ratio');
    let ratio = NaN;
    await waitUntil('the hit ratio to have a value', 60_000, async () => {
      const result = await query(base, hitRatio);
      ratio = result.length === 1 ? Number(result[0]!.value[1]) : NaN;
      return ratio > 0;
    });
    assert.ok(ratio > 0 && ratio <= 1, `hit ratio ${ratio}`);

    // Every metric docs/metrics.md names is in Prometheus, from the pods.
    const table = metricsDoc.split('\n').filter((line) => line.startsWith('| `geecache_')).join('\n');
    const documented = [...new Set([...table.matchAll(/`(geecache_[a-z_]+)/g)].map((m) => m[1]!))];
    assert.ok(documented.length >= 20, `docs/metrics.md names ${documented.length} metrics`);
    const names = new Set((await query(base, `count by (__name__) ({job="${JOB}"})`)).map((r) => r.metric.__name__!));
    // A histogram is stored as its _bucket, _sum and _count series.
    const stored = (name: string) => names.has(name) || names.has(`${name}_bucket`);
    const missing = documented.filter((name) => !stored(name));
    assert.deepEqual(missing, [], `documented metrics Prometheus does not have (it has ${[...names].filter((n) => n.startsWith('geecache_')).join(', ')})`);
  });

  it("evaluates every query of the chart's dashboard, with data where the traffic must have left some", async () => {
    // Grafana's "All" for the filters; a rate window long enough to cover the traffic above.
    const variables = { namespace: '.*', job: '.*', __rate_interval: '5m' };
    // Panels every one of whose queries has series once the pods have served gets, loads and peer fetches.
    const mustHaveData = [
      'Hit ratio',
      'Gets, loads and peer loads per second',
      'API latency',
      'Source load latency',
      'Peer fetch latency',
      'Cache bytes',
      'Ring size per pod',
      'Pods disagreeing on the ring (max - min ring size)',
      'Event-loop lag',
      'Resident memory per pod',
    ];
    const queries = panelExpressions(loadDashboard());
    const titles = new Set(queries.map((q) => q.title));
    assert.deepEqual(mustHaveData.filter((t) => !titles.has(t)), [], 'the panels named here exist');
    const results = new Map<string, Array<{ metric: Record<string, string>; value?: [number, string] }>>();
    for (const { title, expr } of queries) {
      const answer = await instantQuery(base, substitute(expr, variables));
      assert.equal(answer.status, 'success', `${title}: ${expr}: ${answer.error ?? ''}`);
      const result = answer.data?.result ?? [];
      if (mustHaveData.includes(title)) assert.ok(result.length > 0, `${title}: ${expr} returned no series`);
      results.set(expr, result);
    }
    const valuesOf = (title: string, refIndex = 0) => {
      const expr = queries.filter((q) => q.title === title)[refIndex]?.expr ?? '';
      return (results.get(expr) ?? []).map((r) => Number(r.value?.[1]));
    };
    const [hitRatio] = valuesOf('Hit ratio');
    assert.ok(hitRatio !== undefined && hitRatio > 0 && hitRatio <= 1, `hit ratio ${hitRatio}`);
    assert.deepEqual(valuesOf('Ring size per pod'), [3, 3, 3], 'every pod lists the three');
    assert.deepEqual(valuesOf('Pods disagreeing on the ring (max - min ring size)'), [0]);
  });

  it("loads the chart's alerts and evaluates them on the pods' series", async () => {
    const rules = await waitUntil('every rule to have been evaluated', 30_000, async () => {
      const loaded = await loadedRules(base);
      return loaded.length > 0 && loaded.every((r) => r.health !== 'unknown');
    }).then(() => loadedRules(base));
    assert.equal(rules.length, 6);
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
    // The ring agrees; the broken group's loads failed (the not-found answers are no failures), so
    // the load-error alert waits out its `for`.
    const alerts = JSON.parse((await httpGet(`${base}/api/v1/alerts`)).body) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
    const states = new Map(alerts.data.alerts.map((a) => [a.labels.alertname, a.state]));
    assert.equal(states.get('GeecacheRingSizeMismatch'), undefined, 'pods agree on the ring');
    await waitUntil('GeecacheLoadErrors to be pending', 30_000, async () => {
      const now = JSON.parse((await httpGet(`${base}/api/v1/alerts`)).body) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
      return now.data.alerts.some((a) => a.labels.alertname === 'GeecacheLoadErrors' && a.state === 'pending');
    });
  });
});
