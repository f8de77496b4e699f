// prometheus.test.ts lets a real Prometheus find the pods by the chart's annotations (kubernetes_sd_configs, role
// pod) with a ServiceAccount of its own and least RBAC, then asks it the README's hit ratio.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet } from '../support/cache-process.js';
import { freePort } from '../support/ports.js';
import { cluster, helm, kubectl, localImageValues, namespace, portForward, releasePods, waitUntil } from './support/kube.js';

const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

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

it("Prometheus scrapes the pods by the chart's annotations and answers the README's hit ratio", { skip: !cluster.prometheus && 'no Prometheus binary' }, async () => {
  const ns = await namespace('prometheus');
  await helm(['install', 'prom', chartDir, '--namespace', ns, '--wait', '--timeout', '180s', ...localImageValues.flatMap((v) => ['--set', v])]);
  await kubectl(['apply', '-f', '-'], { input: rbac(ns) });

  const dir = mkdtempSync(join(tmpdir(), 'geecache-prometheus-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = JSON.parse((await kubectl(['config', 'view', '--raw', '-o', 'json'])).stdout) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }>;
  };
  const apiServer = kubeconfig.clusters[0]!.cluster;
  const caFile = join(dir, 'ca.crt');
  if (apiServer['certificate-authority-data']) writeFileSync(caFile, Buffer.from(apiServer['certificate-authority-data'], 'base64'));
  else writeFileSync(caFile, readFileSync(apiServer['certificate-authority']!));
  writeFileSync(join(dir, 'token'), (await kubectl(['create', 'token', 'prometheus', '-n', ns, '--duration', '1h'])).stdout.trim());
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: geecache
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
  const port = await freePort();
  const prometheus = spawn(cluster.prometheus!, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prometheus.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  after(() => void prometheus.kill('SIGTERM'));
  const base = `http://127.0.0.1:${port}`;
  await waitUntil('Prometheus to be ready', 30_000, async () => (await httpGet(`${base}/-/ready`)).status === 200).catch((err: Error) => {
    throw new Error(`${err.message}\n${log}`);
  });

  // Three pods found through the API, each scraped at its annotated port and path.
  await waitUntil('three healthy targets', 60_000, async () => {
    const targets = JSON.parse((await httpGet(`${base}/api/v1/targets`)).body) as { data: { activeTargets: Array<{ health: string; scrapeUrl: string }> } };
    const up = targets.data.activeTargets.filter((t) => t.health === 'up');
    return up.length === 3 && up.every((t) => /^http:\/\/10\.244\.\d+\.\d+:9999\/metrics$/.test(t.scrapeUrl));
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${log.slice(-4000)}`);
  });

  const forward = await portForward(ns, 'svc/prom-geecache', 9999);
  for (let i = 0; i < 50; i++) assert.equal((await httpGet(`${forward.url}/api?key=Tom`)).body, '630');
  forward.close();
  // Keys owned everywhere, asked at every pod: each pod also fetches from its peers (404s from the demo source).
  const pods = await releasePods(ns, 'prom');
  for (const pod of pods) for (let i = 0; i < 20; i++) assert.equal((await httpGet(`http://${pod.status.podIP!}:9999/api?key=missing-${i}`)).status, 404);

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

  // Every metric the README's table names is in Prometheus, from the pods.
  const table = readme.split('\n').filter((line) => line.startsWith('| `geecache_')).join('\n');
  const documented = [...new Set([...table.matchAll(/`(geecache_[a-z_]+)/g)].map((m) => m[1]!))];
  assert.ok(documented.length >= 20, `the README's metrics table names ${documented.length} metrics`);
  const names = new Set((await query(base, 'count by (__name__) ({job="geecache"})')).map((r) => r.metric.__name__!));
  // A histogram is stored as its _bucket, _sum and _count series; a labelled counter that has
  // never counted (no watch restarts yet) has no series at all.
  const stored = (name: string) => names.has(name) || names.has(`${name}_bucket`);
  const missing = documented.filter((name) => !stored(name) && name !== 'geecache_discovery_restarts_total');
  assert.deepEqual(missing, [], `documented metrics Prometheus does not have (it has ${[...names].filter((n) => n.startsWith('geecache_')).join(', ')})`);
});
