// promql-in-prometheus.test.ts hands the chart's alerts and the dashboard's queries to a real Prometheus, which parses and evaluates them.
// It stands in for `promtool check rules` (no promtool is built here) and runs only where .cache/ already holds the
// Prometheus that `npm run test:k8s` builds; test/k8s/prometheus.test.ts does the same against real traffic.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { cachedPrometheus, instantQuery, loadedRules, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { loadDashboard, panelExpressions, substitute, variableSelectors } from './dashboard.js';
import { helmTemplate, one, scratchDir, type K8sObject } from './render.js';
import { allToggles } from './checks.js';
import { sleep } from '../../harness/wait.js';

const binary = cachedPrometheus();
/** Grafana's values for the variables: "All" and a rate window. */
const variables = { namespace: '.*', job: '.*', __rate_interval: '5m' };

describe('the alerts and the dashboard in a real Prometheus', { skip: !binary && 'no Prometheus in .cache/ (npm run test:k8s builds it)' }, () => {
  const scratch = scratchDir('geecache-promql-');
  let prometheus: RunningPrometheus;
  let rules: NonNullable<IPrometheusRule['spec']['groups']>;

  before(async () => {
    rules = one<IPrometheusRule & K8sObject>(helmTemplate(allToggles), 'PrometheusRule').spec.groups ?? [];
    // A rule file holds what the operator copies out of spec.
    writeFileSync(join(scratch.path, 'rules.yml'), stringify({ groups: rules }));
    writeFileSync(join(scratch.path, 'prometheus.yml'), 'global: { evaluation_interval: 1s }\nrule_files: [rules.yml]\n');
    // An unparsable rule makes Prometheus refuse its config and exit, which startPrometheus reports.
    prometheus = await startPrometheus(binary!, join(scratch.path, 'prometheus.yml'), join(scratch.path, 'data'));
  });

  after(() => {
    prometheus?.stop();
    scratch.remove();
  });

  it('loads every rule and evaluates each without error', async () => {
    const expected = rules.flatMap((g) => (g.rules ?? []).map((r) => r.alert ?? r.record ?? ''));
    let loaded = await loadedRules(prometheus.base);
    assert.deepEqual(loaded.map((r) => r.name), expected);
    const deadline = Date.now() + 15_000;
    while (loaded.some((r) => r.health === 'unknown') && Date.now() < deadline) {
      await sleep(250);
      loaded = await loadedRules(prometheus.base);
    }
    for (const rule of loaded) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? 'not evaluated'}`);
  });

  it("accepts every panel's and variable's query, with Grafana's variables filled in", async () => {
    const dashboard = loadDashboard();
    const queries = [...panelExpressions(dashboard), ...variableSelectors(dashboard).map((v) => ({ title: `variable ${v.name}`, expr: v.selector }))];
    for (const { title, expr } of queries) {
      const answer = await instantQuery(prometheus.base, substitute(expr, variables));
      assert.equal(answer.status, 'success', `${title}: ${answer.error ?? ''}`);
    }
  });

  it('refuses a malformed query (so the checks above can fail)', async () => {
    const answer = await instantQuery(prometheus.base, 'sum(rate(geecache_gets_total[5m])');
    assert.equal(answer.status, 'error');
    assert.equal(answer.errorType, 'bad_data');
  });
});
