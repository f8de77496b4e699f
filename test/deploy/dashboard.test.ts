// dashboard.test.ts checks the Grafana dashboard file against the metrics the code exports, and the ConfigMap the chart ships it in.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dashboardText, loadDashboard, panelExpressions, substitute, variableSelectors, type Dashboard } from './dashboard.js';
import { exportedMetricNames, metricNamesIn } from './metric-names.js';
import { helmTemplate, ofKind, one, type K8sObject } from './render.js';

/** The release filter every series selector of a panel carries, so the variables narrow every panel. */
const releaseFilter = 'namespace=~"$namespace", job=~"$job"';

/** What the dashboard is for: each of these series is drawn by some panel. */
const required = [
  'geecache_cache_hits_total',
  'geecache_gets_total',
  'geecache_loads_total',
  'geecache_peer_loads_total',
  'geecache_load_duration_seconds_bucket',
  'geecache_peer_request_duration_seconds_bucket',
  'geecache_cache_bytes',
  'geecache_cache_evictions_total',
  'geecache_peers',
  'geecache_discovery_errors_total',
  'nodejs_eventloop_lag_seconds',
  'process_resident_memory_bytes',
];

type ConfigMap = K8sObject & { data?: Record<string, string> };

describe('Grafana dashboard (helm/geecache/dashboards/geecache.json)', () => {
  let dashboard: Dashboard;
  let exported: Set<string>;

  before(async () => {
    dashboard = loadDashboard();
    exported = await exportedMetricNames();
  });

  it('is a JSON object with a title and a fixed uid (links to it survive re-imports)', () => {
    assert.doesNotThrow(() => JSON.parse(dashboardText()) as unknown);
    assert.equal(typeof dashboard.title, 'string');
    assert.match(dashboard.uid ?? '', /^[A-Za-z0-9_-]{1,40}$/);
  });

  it('asks a ${datasource} variable of type prometheus, in every panel and every query', () => {
    const variables = dashboard.templating?.list ?? [];
    const datasource = variables.find((v) => v.name === 'datasource');
    assert.equal(datasource?.type, 'datasource');
    assert.equal(datasource?.query, 'prometheus');
    const wanted = { type: 'prometheus', uid: '${datasource}' };
    for (const panel of dashboard.panels ?? []) {
      assert.deepEqual(panel.datasource, wanted, `panel ${panel.title ?? ''}`);
      for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, wanted, `panel ${panel.title ?? ''} target ${target.refId ?? ''}`);
    }
    for (const v of variables.filter((v) => v.type === 'query')) {
      assert.deepEqual(v.datasource, wanted, `variable ${v.name}`);
      assert.equal(v.allValue, '.*', `variable ${v.name}: "All" matches series without the label too`);
    }
  });

  it('gives every panel a unique id, a title and at least one expression', () => {
    const panels = dashboard.panels ?? [];
    assert.ok(panels.length >= 10, `${panels.length} panels`);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique');
    for (const panel of panels) {
      assert.ok(panel.title?.trim(), `panel ${panel.id ?? '?'} has a title`);
      const targets = panel.targets ?? [];
      assert.ok(targets.length >= 1, `panel ${panel.title ?? ''} has a query`);
      for (const t of targets) assert.ok(t.expr?.trim(), `panel ${panel.title ?? ''} target ${t.refId ?? ''} has an expression`);
      assert.equal(new Set(targets.map((t) => t.refId)).size, targets.length, `panel ${panel.title ?? ''}: refIds are unique`);
    }
  });

  it('uses only metric names the code exports, in panels and variables alike', () => {
    const expressions = [...panelExpressions(dashboard), ...variableSelectors(dashboard).map((v) => ({ title: `variable ${v.name}`, expr: v.selector }))];
    assert.ok(variableSelectors(dashboard).length >= 1, 'the filter variables are read');
    for (const { title, expr } of expressions) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `${title}: ${expr} selects a metric`);
      for (const name of names) assert.ok(exported.has(name), `${title}: ${name} is not exported by src/ops/metrics.ts`);
    }
  });

  it('draws the hit ratio, traffic, latency, memory, ring and process series', () => {
    const used = new Set(panelExpressions(dashboard).flatMap(({ expr }) => metricNamesIn(expr)));
    assert.deepEqual(required.filter((name) => !used.has(name)), []);
    const hitRatio = panelExpressions(dashboard).filter(({ expr }) => /geecache_cache_hits_total.*\/.*geecache_gets_total/.test(expr));
    assert.ok(hitRatio.length >= 1, 'a hit ratio: hits over gets');
    assert.ok(hitRatio.some(({ expr }) => /by \(cache\)/.test(expr)), 'the hit ratio split by cache (main, hot)');
    assert.ok(panelExpressions(dashboard).some(({ expr }) => /max by \([^)]*\) \(geecache_peers\{[^}]*\}\) - min by \([^)]*\) \(geecache_peers/.test(expr)), 'ring size max - min');
  });

  it('filters every series selector by the namespace and job variables', () => {
    for (const { title, expr } of panelExpressions(dashboard)) {
      for (const name of metricNamesIn(expr)) {
        for (const match of expr.matchAll(new RegExp(`(?<![\\w:])${name}(?![\\w:])(\\{[^}]*\\})?`, 'g'))) {
          assert.ok(match[1]?.includes(releaseFilter), `${title}: ${name} without {${releaseFilter}} in ${expr}`);
        }
      }
    }
  });

  it('takes quantiles over _bucket series only, summed by le', () => {
    const quantiles = panelExpressions(dashboard).filter(({ expr }) => expr.includes('histogram_quantile'));
    assert.ok(quantiles.length >= 6, 'load and peer latency, three quantiles each');
    for (const { title, expr } of quantiles) {
      assert.match(expr, /^histogram_quantile\(0\.\d+, sum by \(le\) \(rate\([a-z_]+_bucket\{[^}]*\}\[\$__rate_interval\]\)\)\)$/, title);
    }
  });

  it('substitutes every variable an expression uses', () => {
    const values = { namespace: '.*', job: '.*', __rate_interval: '5m' };
    for (const { expr } of panelExpressions(dashboard)) assert.doesNotMatch(substitute(expr, values), /\$/);
    assert.throws(() => substitute('rate(x[$__range])', values), /no value for \$__range/);
  });
});

describe('the grafanaDashboard ConfigMap', () => {
  it('is off by default', () => {
    assert.equal(ofKind(helmTemplate(), 'ConfigMap').length, 0);
  });

  it('carries the dashboard file unchanged, with the sidecar label', () => {
    const objects = helmTemplate({ grafanaDashboard: { enabled: true } });
    const map = one<ConfigMap>(objects, 'ConfigMap', 'geecache-dashboard');
    assert.equal(map.data?.['geecache.json'], dashboardText(), 'byte for byte');
    assert.equal(map.metadata.labels?.grafana_dashboard, '1');
    assert.equal(map.metadata.labels?.['app.kubernetes.io/instance'], 'geecache', 'and the chart labels');
    assert.equal(map.metadata.namespace, 'cache', "the release's namespace by default");
    assert.equal(map.metadata.annotations, undefined);
  });

  it('takes its label, annotations and namespace from the values', () => {
    const objects = helmTemplate({
      grafanaDashboard: { enabled: true, label: 'dashboards.example.com/load', labelValue: 'geecache', annotations: { grafana_folder: 'Caches' }, namespace: 'monitoring' },
    });
    const map = one<ConfigMap>(objects, 'ConfigMap', 'geecache-dashboard');
    assert.equal(map.metadata.labels?.['dashboards.example.com/load'], 'geecache');
    assert.equal(map.metadata.labels?.grafana_dashboard, undefined);
    assert.deepEqual(map.metadata.annotations, { grafana_folder: 'Caches' });
    assert.equal(map.metadata.namespace, 'monitoring');
  });
});
