// kube-score.test.ts lints the rendered chart with kube-score, defaults and every toggle, with the checks test/deploy/kube-score.yaml turns off.
import assert from 'node:assert/strict';
import { before, describe, it, type TestContext } from 'node:test';
import { findings, kubeScore, kubeScoreSettings, knownChecks, scoreObjects, type ScoredObject } from './kube-score.js';
import { helmTemplate } from './render.js';
import { allToggles } from './checks.js';

/** The checks that matter most for this chart, which must have run (not been skipped) on these kinds. */
const mustRun: Record<string, string[]> = {
  StatefulSet: [
    'pod-probes',
    'pod-probes-identical',
    'container-resources',
    'container-security-context-readonlyrootfilesystem',
    'container-security-context-privileged',
    'statefulset-has-servicename',
    'statefulset-has-poddisruptionbudget',
    'statefulset-pod-selector-labels-match-template-metadata-labels',
    'pod-topology-spread-constraints',
  ],
  Service: ['service-targets-pod'],
  NetworkPolicy: ['networkpolicy-targets-pod'],
  HorizontalPodAutoscaler: ['horizontalpodautoscaler-has-target', 'horizontalpodautoscaler-replicas'],
};

describe('kube-score on the rendered chart', () => {
  let binary: string | undefined;
  let missing = '';

  before(() => {
    const found = kubeScore();
    if ('path' in found) binary = found.path;
    else missing = found.missing;
  });

  /** The binary, or a skip outside CI; in CI (CI set, as .ci/run runs) a missing linter fails. */
  const linter = (t: TestContext): string | undefined => {
    if (binary) return binary;
    if (process.env.CI) assert.fail(`kube-score is required in CI: ${missing}`);
    t.skip(`no kube-score: ${missing}`);
    return undefined;
  };

  it('turns off only checks kube-score has, each with a reason, and turns on only optional ones it has', (t) => {
    const path = linter(t);
    if (!path) return;
    const known = knownChecks(path);
    assert.ok(known.size >= 30, `kube-score list printed ${known.size} checks`);
    const settings = kubeScoreSettings();
    for (const { id, why } of settings.ignoredTests) {
      assert.ok(known.has(id), `ignored ${id} is a kube-score check`);
      assert.ok(why?.trim(), `ignored ${id} says why`);
    }
    for (const id of settings.enabledOptionalTests) assert.ok(known.has(id), `optional ${id} is a kube-score check`);
    assert.match(settings.kubernetesVersion, /^v1\.\d+$/);
  });

  for (const [label, values] of [['defaults', {}], ['every toggle on', allToggles]] as const) {
    it(`finds nothing with ${label}`, (t) => {
      const path = linter(t);
      if (!path) return;
      const { status, scored, stderr } = scoreObjects(path, helmTemplate(values));
      assert.deepEqual(findings(scored), []);
      assert.equal(status, 0, stderr);
      checkCoverage(scored, label === 'defaults' ? [] : ['HorizontalPodAutoscaler']);
    });
  }

  it('reports a writable root filesystem and a single-pod autoscaler (so a clean run means something)', (t) => {
    const path = linter(t);
    if (!path) return;
    const objects = helmTemplate({
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'] } },
      autoscaling: { enabled: true, minReplicas: 1 },
    });
    const { status, scored } = scoreObjects(path, objects);
    assert.equal(status, 1);
    const found = findings(scored);
    assert.ok(found.some((f) => f.startsWith('StatefulSet/geecache container-security-context-readonlyrootfilesystem')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('HorizontalPodAutoscaler/geecache horizontalpodautoscaler-replicas')), 'a warning fails too');
  });
});

/** Every kind the chart renders that kube-score knows was scored, and the checks in mustRun ran on it. */
function checkCoverage(scored: ScoredObject[], extraKinds: string[]): void {
  const kinds = new Set(scored.map((o) => o.type_meta.kind));
  for (const kind of ['StatefulSet', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'Pod', ...extraKinds]) assert.ok(kinds.has(kind), `kube-score scored a ${kind}`);
  for (const object of scored) {
    const ran = new Set(object.checks.filter((c) => !c.skipped).map((c) => c.check.id));
    for (const id of mustRun[object.type_meta.kind] ?? []) assert.ok(ran.has(id), `${id} ran on ${object.type_meta.kind}/${object.object_meta.name}`);
  }
}
