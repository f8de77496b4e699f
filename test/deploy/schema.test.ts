// schema.test.ts validates every rendered object against the Kubernetes OpenAPI schemas, offline.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { helmTemplate, one, renderDeploy, type K8sObject } from './render.js';
import { allToggles } from './checks.js';

interface Validatable {
  validate(): void;
}

/** The model class for each kind we render, keyed by apiVersion and kind; the Prometheus Operator's CRDs from its own schemas. */
const models: Record<string, new (data: never) => Validatable> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'apps/v1/StatefulSet': StatefulSet,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/ConfigMap': ConfigMap,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Validates one object; throws naming the object and the schema errors. */
function validate(o: K8sObject): void {
  const Model = models[`${o.apiVersion}/${o.kind}`];
  assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}`);
  const { apiVersion: _a, kind: _k, ...data } = o;
  try {
    new Model(data as never).validate();
  } catch (err) {
    throw new Error(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`, { cause: err });
  }
}

describe('Kubernetes schema validation', () => {
  const sets: Record<string, K8sObject[]> = {};

  before(() => {
    sets['chart defaults'] = helmTemplate();
    sets['chart with all toggles'] = helmTemplate(allToggles);
    sets['chart without rbac and pdb'] = helmTemplate({ rbac: { create: false }, podDisruptionBudget: { enabled: false }, networkPolicy: { enabled: false } });
    sets['deploy/'] = renderDeploy().objects;
  });

  for (const name of ['chart defaults', 'chart with all toggles', 'chart without rbac and pdb', 'deploy/']) {
    it(`accepts every object of ${name}`, () => {
      const objects = sets[name] ?? [];
      assert.ok(objects.length >= 5, `${name} rendered ${objects.length} objects`);
      for (const o of objects) validate(o);
    });
  }

  it('checks apiVersion and kind against the model used', () => {
    // The model class comes from apiVersion/kind, and the model itself also pins them.
    const role = one<K8sObject>(sets['deploy/'] ?? [], 'Role');
    assert.throws(() => validate({ ...role, apiVersion: 'rbac.authorization.k8s.io/v1beta1' }), /no schema/);
    assert.throws(() => new Role({ ...role, apiVersion: 'v1' } as never).validate(), /apiVersion/);
  });

  describe('rejects objects that a cluster would reject', () => {
    const statefulSet = () => structuredClone(one<K8sObject>(sets['chart defaults'] ?? [], 'StatefulSet')) as K8sObject & {
      spec: { replicas: unknown; template: { spec: { containers: { env: { name: string; value?: unknown }[]; ports: { containerPort: unknown }[]; lifecycle?: unknown }[] } } };
    };

    it('a string where an integer belongs', () => {
      const sts = statefulSet();
      sts.spec.replicas = '3';
      assert.throws(() => validate(sts), /spec\/replicas must be integer/);
    });

    it('an unquoted number as an env value (a classic template slip)', () => {
      const sts = statefulSet();
      const env = sts.spec.template.spec.containers[0]?.env;
      assert.ok(env && env.length > 0);
      const drain = env.find((e) => e.name === 'GEECACHE_DRAIN_TIMEOUT_MS');
      assert.ok(drain);
      drain.value = 10000;
      assert.throws(() => validate(sts), /env\/\d+\/value must be string/);
    });

    it('a container port out of type', () => {
      const sts = statefulSet();
      const port = sts.spec.template.spec.containers[0]?.ports[0];
      assert.ok(port);
      port.containerPort = 'peer';
      assert.throws(() => validate(sts), /containerPort must be integer/);
    });

    it('a preStop hook with a malformed sleep', () => {
      const sts = statefulSet();
      const c = sts.spec.template.spec.containers[0];
      assert.ok(c);
      c.lifecycle = { preStop: { sleep: {} } };
      assert.throws(() => validate(sts), /seconds/);
    });

    it('a Service port name with the wrong type', () => {
      const svc = structuredClone(one<K8sObject & { spec: { ports: { name: unknown }[] } }>(sets['deploy/'] ?? [], 'Service', 'geecache-peers'));
      const port = svc.spec.ports[0];
      assert.ok(port);
      port.name = 8001;
      assert.throws(() => validate(svc), /name must be string/);
    });
  });
});
