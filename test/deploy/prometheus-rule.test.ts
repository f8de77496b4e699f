// prometheus-rule.test.ts checks the chart's alerts: their fields, their metric names against the code's registry, and the values that shape them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { PrometheusRule, type IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { exportedMetricNames, metricNamesIn } from './metric-names.js';
import { helmTemplate, helmTemplateError, ofKind, one, type K8sObject } from './render.js';
import { allToggles } from './checks.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

type RuleObject = IPrometheusRule & K8sObject;
type Rule = NonNullable<NonNullable<IPrometheusRule['spec']['groups']>[number]['rules']>[number];

const alertNames = ['GeecacheRingSizeMismatch', 'GeecacheHitRatioLow', 'GeecachePeerErrors', 'GeecacheDiscoveryFailing', 'GeecacheLoadErrors', 'GeecacheEvictedBeforeExpiry'];

/** The rules rendered with prometheusRule.enabled, these prometheusRule values and `others` beside them. */
function rules(values: Record<string, unknown>, others: Record<string, unknown> = {}): Rule[] {
  const object = one<RuleObject>(helmTemplate({ ...others, prometheusRule: { enabled: true, ...values } }), 'PrometheusRule');
  return (object.spec.groups ?? []).flatMap((g) => g.rules ?? []);
}

function alert(list: Rule[], name: string): Rule {
  const found = list.find((r) => r.alert === name);
  assert.ok(found, `alert ${name}`);
  return found;
}

describe('prometheusRule', () => {
  let exported: Set<string>;
  let defaults: Rule[];

  before(async () => {
    exported = await exportedMetricNames();
    defaults = rules({});
  });

  it('is off by default (it needs the Prometheus Operator CRD)', () => {
    assert.equal(ofKind(helmTemplate(), 'PrometheusRule').length, 0);
  });

  it("validates against the operator's PrometheusRule schema, with every toggle on", () => {
    const object = one<RuleObject>(helmTemplate(allToggles), 'PrometheusRule');
    const { apiVersion: _a, kind: _k, ...data } = object;
    assert.doesNotThrow(() => new PrometheusRule(data as never).validate());
    assert.equal(object.metadata.labels?.release, 'kube-prometheus', 'additionalLabels reach the object');
  });

  it('defines each alert once, with severity, summary, description and a runbook link to the README', () => {
    assert.deepEqual(defaults.map((r) => r.alert), alertNames);
    for (const rule of defaults) {
      const name = rule.alert ?? '';
      assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, `${name} severity`);
      assert.ok((rule.annotations?.summary ?? '').length > 10, `${name} summary`);
      assert.ok((rule.annotations?.description ?? '').length > 20, `${name} description`);
      assert.equal(rule.annotations?.runbook_url, `https://github.com/geecache/geecache#runbook-${name.toLowerCase()}`, `${name} runbook_url`);
      assert.ok(readme.includes(`<a id="runbook-${name.toLowerCase()}"></a>`), `the README has the runbook entry ${name} links to`);
      assert.match(rule.for ?? '', /^\d+[smh]$/, `${name} waits before firing`);
    }
  });

  it('keeps Prometheus template variables for Prometheus (helm does not render them)', () => {
    for (const rule of defaults) assert.match(rule.annotations?.description ?? '', /\{\{ \$(labels\.\w+|value)[^}]*\}\}/, `${rule.alert ?? ''}`);
  });

  it('uses only metric names the code exports, in every rule of every toggle', () => {
    const all = rules(allToggles.prometheusRule, allToggles);
    assert.equal(all.length, alertNames.length + 1, 'the alerts and additionalRules');
    for (const rule of all) {
      const names = metricNamesIn(String(rule.expr));
      assert.ok(names.length > 0, `${rule.alert ?? rule.record ?? ''} selects a metric`);
      for (const name of names) assert.ok(exported.has(name), `${rule.alert ?? rule.record ?? ''}: ${name} is not exported by src/ops/metrics.ts`);
    }
  });

  it("narrows every selector to the release's namespace, and to its job with the ServiceMonitor", () => {
    const selectors = (list: Rule[]) => list.flatMap((r) => [...String(r.expr).matchAll(/[a-z_]+\{([^}]*)\}/g)].map((m) => m[1] ?? ''));
    const plain = selectors(defaults);
    assert.ok(plain.length >= alertNames.length);
    for (const s of plain) assert.match(s, /^namespace="cache"(, [a-z]+="[a-z]+")?$/);
    for (const s of selectors(rules({}, { serviceMonitor: { enabled: true } }))) assert.ok(s.startsWith('namespace="cache", job="geecache"'), s);
    for (const s of selectors(rules({ selector: 'cluster="eu-1", app="geecache"' }))) assert.ok(s.startsWith('cluster="eu-1", app="geecache"'), s);
  });

  it('alerts on a ring size mismatch after 2 minutes, comparing max and min across the pods', () => {
    const rule = alert(defaults, 'GeecacheRingSizeMismatch');
    assert.equal(rule.for, '2m');
    assert.match(String(rule.expr), /max by \(namespace, job\) \(geecache_peers\{[^}]*\}\)\s+!= min by \(namespace, job\) \(geecache_peers\{[^}]*\}\)/);
  });

  it('takes the hit ratio threshold and its wait from the values', () => {
    const rule = alert(rules({ hitRatioBelow: 0.8, hitRatioFor: '30m' }), 'GeecacheHitRatioLow');
    assert.equal(rule.for, '30m');
    assert.match(String(rule.expr), /geecache_cache_hits_total.*\/.*geecache_gets_total.*< 0\.8$/s);
    assert.match(rule.annotations?.description ?? '', /for 30m, below 0\.8/);
    assert.match(String(alert(rules({ peerErrorRatioAbove: 0.2 }), 'GeecachePeerErrors').expr), /> 0\.2$/);
    assert.match(String(alert(rules({ loadErrorRatioAbove: 0.3 }), 'GeecacheLoadErrors').expr), /> 0\.3$/);
    assert.match(String(alert(rules({ evictedBeforeExpiryAbove: 0.25 }), 'GeecacheEvictedBeforeExpiry').expr), /> 0\.25$/);
  });

  it('counts only error restarts of the discovery watch, not the periodic resyncs', () => {
    const expr = String(alert(defaults, 'GeecacheDiscoveryFailing').expr);
    assert.match(expr, /geecache_discovery_errors_total/);
    assert.match(expr, /geecache_discovery_restarts_total\{[^}]*reason="error"\}/);
  });

  it('leaves out disabled alerts, and adds labels and rules from the values', () => {
    const list = rules({ disabledAlerts: ['GeecacheHitRatioLow', 'GeecacheEvictedBeforeExpiry'], additionalRuleLabels: { team: 'cache' }, additionalRules: allToggles.prometheusRule.additionalRules });
    assert.deepEqual(list.map((r) => r.alert ?? r.record), ['GeecacheRingSizeMismatch', 'GeecachePeerErrors', 'GeecacheDiscoveryFailing', 'GeecacheLoadErrors', 'geecache:hit_ratio:rate5m']);
    for (const rule of list.filter((r) => r.alert)) assert.deepEqual(rule.labels, { severity: 'warning', team: 'cache' });
    assert.match(helmTemplateError({ prometheusRule: { enabled: true, disabledAlerts: ['GeecacheTypo'] } }), /disabledAlerts/);
    assert.match(helmTemplateError({ prometheusRule: { enabled: true, hitRatioBelow: 50 } }), /hitRatioBelow/, 'a ratio, not a percentage');
  });
});
