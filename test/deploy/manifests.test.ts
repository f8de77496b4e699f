// manifests.test.ts renders deploy/ with kustomize and checks it, and that it matches the chart's defaults.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  chartDir,
  deployDir,
  repoRoot,
  deployYamlFiles,
  hasKubectl,
  helmTemplate,
  kustomizationResources,
  readDeployFiles,
  renderDeploy,
  type K8sObject,
} from './render.js';
import {
  checkAntiAffinity,
  checkDisruptionBudget,
  checkEnv,
  checkNetworkPolicy,
  checkProbes,
  checkRbac,
  checkScrapeAnnotations,
  checkSecurity,
  checkSelectors,
  checkServices,
  checkProgramConfig,
  checkShutdownBudget,
  container,
  envMap,
  knownSettings,
  ringNames,
  ringSummary,
  selectorLabels,
} from './checks.js';

const names = ringNames('geecache');
const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

describe('deploy/ manifests', () => {
  let objects: K8sObject[];
  let chart: K8sObject[];

  before(() => {
    objects = renderDeploy().objects;
    // The chart with release name "geecache", without its helm-test hook pod and the Secret with the
    // peer token it makes up, which README.md has the user create before applying deploy/.
    chart = helmTemplate().filter((o) => o.metadata.annotations?.['helm.sh/hook'] === undefined && key(o) !== 'Secret/geecache-tokens');
  });

  it('lists every manifest file in kustomization.yaml', () => {
    assert.deepEqual([...kustomizationResources()].sort(), deployYamlFiles());
  });

  it('renders the same objects with kustomize as file by file', { skip: !hasKubectl() && 'kubectl not installed' }, () => {
    const byFile = new Map(readDeployFiles().map((o) => [key(o), o]));
    const rendered = new Map(objects.map((o) => [key(o), o]));
    assert.deepEqual([...rendered.keys()].sort(), [...byFile.keys()].sort());
    for (const [k, o] of rendered) assert.deepEqual(o, byFile.get(k), `${k} is unchanged by kustomize`);
  });

  it('sets no namespace, so it applies to any', () => {
    for (const o of objects) assert.equal(o.metadata.namespace, undefined, key(o));
  });

  it('grants exactly get/list/watch on endpointslices through a namespaced Role', () => checkRbac(objects, names));
  it('selects the same pods from the StatefulSet and both Services', () => checkSelectors(objects, names));
  it('exposes peer 8001 on the headless Service and http 9999 on the API Service', () => checkServices(objects, names));
  it('wires discovery, ports and groups into the environment', () => checkEnv(objects, names, 'scores:64MiB:demo'));
  it('sets only variables the program reads, with values its config accepts', () => checkProgramConfig(objects, names, ['scores']));
  it('probes /readyz and /healthz on the http port', () => checkProbes(objects, names));
  it('runs non-root, read-only, without capabilities', () => checkSecurity(objects, names));
  it('gives the pod time for the preStop sleep and the drain', () => checkShutdownBudget(objects, names));
  it('annotates pods for Prometheus', () => checkScrapeAnnotations(objects, names));
  it('spreads pods over nodes', () => checkAntiAffinity(objects, names));
  it('allows one voluntary disruption at a time', () => checkDisruptionBudget(objects, names));
  it('admits only its own pods to the peer port', () => checkNetworkPolicy(objects, names));
  it('runs three replicas of the placeholder image', () => {
    assert.equal(container(objects, names).image, 'ghcr.io/geecache/geecache:0.1.0');
  });

  it('mentions only settings the program has, in manifests, chart and docs alike', () => {
    const known = knownSettings();
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
    const unknown: string[] = [];
    for (const file of [...files(deployDir), ...files(chartDir)]) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/\b(?:GEECACHE|LOG|POD)_[A-Z0-9_]+\b/g)) {
        if (!known.has(name)) unknown.push(`${relative(repoRoot, file)}: ${name}`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  describe('agrees with the chart (release "geecache")', () => {
    it('has the same objects', () => {
      assert.deepEqual(objects.map(key).sort(), chart.map(key).sort());
    });
    it('uses the same selector labels', () => {
      assert.deepEqual(selectorLabels(objects, names), selectorLabels(chart, names));
    });
    it('uses the same ports, port names and probe paths', () => {
      const deploySide = ringSummary(objects, names);
      const chartSide = ringSummary(chart, names);
      for (const field of ['ports', 'services', 'readinessProbe', 'livenessProbe']) {
        assert.deepEqual(deploySide[field], chartSide[field], field);
      }
    });
    it('sets the same environment variables to the same values', () => {
      assert.deepEqual([...envMap(container(objects, names))], [...envMap(container(chart, names))]);
    });
    it('grants the same RBAC rules', () => {
      assert.deepEqual(ringSummary(objects, names).rules, ringSummary(chart, names).rules);
    });
    it('matches in every other field the two share', () => {
      assert.deepEqual(ringSummary(objects, names), ringSummary(chart, names));
    });
    it('labels objects alike, apart from the labels only Helm sets', () => {
      const helmOnly = new Set(['helm.sh/chart', 'app.kubernetes.io/managed-by']);
      const strip = (labels: Record<string, string> | undefined) => Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !helmOnly.has(k)));
      const chartByKey = new Map(chart.map((o) => [key(o), o]));
      for (const o of objects) assert.deepEqual(strip(o.metadata.labels), strip(chartByKey.get(key(o))?.metadata.labels), key(o));
    });
  });
});
