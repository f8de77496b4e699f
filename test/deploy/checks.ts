// checks.ts holds the assertions that the chart and deploy/ must both satisfy, and a summary to compare them by.
import assert from 'node:assert/strict';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { loadConfig, SETTINGS, type Config } from '../../src/config.js';
import { one, ofKind, selects, type K8sObject } from './render.js';

/** Values that turn every optional part on and change every list-valued setting. */
export const allToggles = {
  serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus' } },
  networkPolicy: { enabled: true },
  podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
  rbac: { create: true },
  serviceAccount: { create: true, annotations: { 'example.com/role': 'cache' } },
  groups: [
    { name: 'scores', bytes: '64MiB', source: 'demo' },
    { name: 'pages', bytes: '256MiB', ttl: '5m', staleWhileRevalidate: '30s', staleIfError: '1h', source: 'http://origin.internal:8080' },
  ],
  adminToken: { existingSecret: 'geecache-admin', existingSecretKey: 'token' },
  peerToken: { existingSecret: 'geecache-peer', existingSecretKey: 'token' },
  extraEnv: [
    { name: 'GEECACHE_BASE_PATH', value: '/_cache/' },
    { name: 'NODE_OPTIONS', value: '--max-old-space-size=256' },
  ],
  podAnnotations: { 'example.com/team': 'cache' },
  podLabels: { 'example.com/tier': 'cache' },
  imagePullSecrets: [{ name: 'regcred' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' }],
  // One entry names its own pods, the other gets the chart's selector labels.
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'geecache' } } },
    { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
  ],
  autoscaling: {
    enabled: true,
    minReplicas: 3,
    maxReplicas: 6,
    targetCPUUtilizationPercentage: 75,
    targetMemoryUtilizationPercentage: 90,
    behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
  },
  grafanaDashboard: { enabled: true, label: 'grafana_dashboard', labelValue: '1', annotations: { grafana_folder: 'Caches' }, namespace: 'monitoring' },
  prometheusRule: {
    enabled: true,
    additionalLabels: { release: 'kube-prometheus' },
    additionalRuleLabels: { team: 'cache' },
    additionalRules: [{ record: 'geecache:hit_ratio:rate5m', expr: 'sum by (namespace, job) (rate(geecache_cache_hits_total[5m])) / sum by (namespace, job) (rate(geecache_gets_total[5m]))' }],
  },
};

/** Object names of one geecache installation. */
export interface RingNames {
  statefulSet: string;
  apiService: string;
  peerService: string;
  serviceAccount: string;
}

/** The names `helm template <release>` and deploy/ give (release "geecache" gives the plain names). */
export function ringNames(fullname: string): RingNames {
  return { statefulSet: fullname, apiService: fullname, peerService: `${fullname}-peers`, serviceAccount: fullname };
}

/** The only API access discovery needs. */
export const expectedRules = [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }];

/** Selector-label keys, the `helm create` split: name and instance only. */
export const selectorKeys = ['app.kubernetes.io/instance', 'app.kubernetes.io/name'];

export function statefulSet(objects: K8sObject[], names: RingNames): IStatefulSet {
  return one<IStatefulSet>(objects, 'StatefulSet', names.statefulSet);
}

export function podSpec(objects: K8sObject[], names: RingNames): IPodSpec {
  const spec = statefulSet(objects, names).spec?.template.spec;
  assert.ok(spec, 'StatefulSet has a pod spec');
  return spec;
}

export function container(objects: K8sObject[], names: RingNames): IContainer {
  const containers = podSpec(objects, names).containers;
  assert.equal(containers.length, 1, 'one container per pod');
  const [only] = containers;
  assert.ok(only);
  return only;
}

/** Environment variables with plain values, by name; valueFrom entries map to their fieldPath prefixed "fieldRef:". */
export function envMap(c: IContainer): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of c.env ?? []) {
    assert.ok(!env.has(e.name), `env ${e.name} set twice`);
    if (e.valueFrom?.fieldRef) env.set(e.name, `fieldRef:${e.valueFrom.fieldRef.fieldPath}`);
    else if (e.valueFrom?.secretKeyRef) env.set(e.name, `secretKeyRef:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
    else {
      assert.equal(typeof e.value, 'string', `env ${e.name} has a string value`);
      env.set(e.name, e.value ?? '');
    }
  }
  return env;
}

export function containerPorts(c: IContainer): Record<string, number> {
  return Object.fromEntries((c.ports ?? []).map((p) => [p.name ?? '', p.containerPort]));
}

export function selectorLabels(objects: K8sObject[], names: RingNames): Record<string, string> {
  const matchLabels = statefulSet(objects, names).spec?.selector.matchLabels;
  assert.ok(matchLabels, 'StatefulSet selector uses matchLabels');
  return matchLabels;
}

export function checkRbac(objects: K8sObject[], names: RingNames): void {
  assert.equal(ofKind(objects, 'ClusterRole').length, 0, 'no ClusterRole');
  assert.equal(ofKind(objects, 'ClusterRoleBinding').length, 0, 'no ClusterRoleBinding');
  const role = one<IRole & K8sObject>(objects, 'Role');
  assert.deepEqual(role.rules, expectedRules);
  const binding = one<IRoleBinding & K8sObject>(objects, 'RoleBinding');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
  assert.equal(binding.subjects?.length, 1);
  assert.equal(binding.subjects?.[0]?.kind, 'ServiceAccount');
  assert.equal(binding.subjects?.[0]?.name, names.serviceAccount);
  const account = one<IServiceAccount>(objects, 'ServiceAccount', names.serviceAccount);
  assert.equal(podSpec(objects, names).serviceAccountName, names.serviceAccount);
  // The pod's own setting wins over the account's; both default to true.
  const mounted = podSpec(objects, names).automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
  assert.equal(mounted, true, 'discovery needs the token mounted');
}

export function checkSelectors(objects: K8sObject[], names: RingNames): void {
  const sts = statefulSet(objects, names);
  const selector = selectorLabels(objects, names);
  assert.deepEqual(Object.keys(selector).sort(), selectorKeys, 'selector labels are name + instance only');
  assert.ok(selects(selector, sts.spec?.template.metadata?.labels), 'pod template labels include the selector labels');
  for (const name of [names.apiService, names.peerService]) {
    assert.deepEqual(one<IService>(objects, 'Service', name).spec?.selector, selector, `Service ${name} selects the StatefulSet's pods`);
  }
  assert.equal(sts.spec?.serviceName, names.peerService, 'serviceName is the headless Service');
  assert.equal(sts.spec?.podManagementPolicy, 'Parallel');
}

export function checkServices(objects: K8sObject[], names: RingNames): void {
  const peers = one<IService>(objects, 'Service', names.peerService);
  assert.equal(peers.spec?.clusterIP, 'None', 'peer Service is headless');
  assert.equal(peers.spec?.publishNotReadyAddresses, false, 'unready pods stay out of the ring');
  assert.deepEqual(peers.spec?.ports, [{ name: 'peer', port: 8001, targetPort: 'peer', protocol: 'TCP' }]);
  const api = one<IService>(objects, 'Service', names.apiService);
  assert.notEqual(api.spec?.clusterIP, 'None');
  assert.equal(api.spec?.type ?? 'ClusterIP', 'ClusterIP');
  assert.deepEqual(api.spec?.ports, [{ name: 'http', port: 9999, targetPort: 'http', protocol: 'TCP' }]);
  // Every named targetPort must exist on the container.
  const ports = containerPorts(container(objects, names));
  assert.deepEqual(ports, { peer: 8001, http: 9999 });
}

export function checkEnv(objects: K8sObject[], names: RingNames, groups: string): void {
  const c = container(objects, names);
  const env = envMap(c);
  const ports = containerPorts(c);
  assert.equal(env.get('POD_IP'), 'fieldRef:status.podIP');
  assert.equal(env.get('POD_NAMESPACE'), 'fieldRef:metadata.namespace');
  assert.equal(env.get('GEECACHE_DISCOVERY'), 'kubernetes');
  assert.equal(env.get('GEECACHE_SERVICE'), names.peerService);
  const peerPort = one<IService>(objects, 'Service', names.peerService).spec?.ports?.[0];
  assert.equal(env.get('GEECACHE_PEER_PORT_NAME'), peerPort?.name, 'discovery looks up the headless Service port by this name');
  assert.equal(env.get('GEECACHE_PORT'), String(ports.peer));
  assert.equal(env.get('GEECACHE_HTTP_PORT'), String(ports.http));
  assert.equal(env.get('GEECACHE_GROUPS'), groups);
  assert.match(env.get('GEECACHE_PEER_TIMEOUT_MS') ?? '', /^[1-9][0-9]*$/);
  assert.match(env.get('GEECACHE_DRAIN_TIMEOUT_MS') ?? '', /^[0-9]+$/);
  assert.ok(!env.has('GEECACHE_SELF'), 'GEECACHE_SELF is derived from POD_IP in kubernetes mode');
  assert.ok(!env.has('GEECACHE_BIND') || env.get('GEECACHE_BIND') === '0.0.0.0', 'peers must reach the pod IP');
}

export function checkProbes(objects: K8sObject[], names: RingNames): void {
  const c = container(objects, names);
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(c.readinessProbe?.httpGet?.port, 'http');
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(c.livenessProbe?.httpGet?.port, 'http');
  assert.equal(c.startupProbe, undefined);
  // Liveness gives a wedged process at least 20 s before a restart; readiness reacts within 15 s.
  const live = c.livenessProbe;
  assert.ok((live?.periodSeconds ?? 10) * (live?.failureThreshold ?? 3) >= 20);
  const ready = c.readinessProbe;
  assert.ok((ready?.periodSeconds ?? 10) * (ready?.failureThreshold ?? 3) <= 15);
}

export function checkSecurity(objects: K8sObject[], names: RingNames): void {
  const pod = podSpec(objects, names);
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.runAsUser, 1000);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.hostNetwork, undefined);
  const c = container(objects, names);
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
  assert.equal(c.securityContext?.capabilities?.add, undefined);
  assert.notEqual(c.securityContext?.privileged, true);
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'requests set');
  assert.ok(c.resources?.limits?.memory, 'memory limit set');
  // Only /tmp is writable, from an emptyDir.
  const mounts = c.volumeMounts ?? [];
  assert.deepEqual(mounts.map((m) => m.mountPath), ['/tmp']);
  const volume = pod.volumes?.find((v) => v.name === mounts[0]?.name);
  assert.ok(volume?.emptyDir, '/tmp is an emptyDir');
}

/** Seconds of margin, after the drain, for closing discovery and connections and exiting. */
export const exitMarginSeconds = 5;

/**
 * SIGKILL must not arrive before the preStop sleep, the server's own wait
 * (GEECACHE_SHUTDOWN_DELAY_MS, 0 unless set: the preStop sleep already covers
 * endpoint removal) and the drain are over, with a margin. The delay and the
 * drain are read the way the program reads them, defaults included.
 */
export function checkShutdownBudget(objects: K8sObject[], names: RingNames): void {
  const pod = podSpec(objects, names);
  const c = container(objects, names);
  const sleep = c.lifecycle?.preStop?.sleep?.seconds;
  assert.ok(typeof sleep === 'number' && sleep > 0, 'preStop sleeps');
  assert.equal(c.lifecycle?.preStop?.exec, undefined, 'no exec hook: the sleep action needs no binary');
  const { shutdownDelayMs, drainTimeoutMs } = programConfig(objects, names);
  const grace = pod.terminationGracePeriodSeconds;
  assert.ok(typeof grace === 'number');
  const needed = sleep + (shutdownDelayMs + drainTimeoutMs) / 1000 + exitMarginSeconds;
  assert.ok(grace > needed, `grace ${grace}s covers preStop ${sleep}s + delay ${shutdownDelayMs}ms + drain ${drainTimeoutMs}ms + ${exitMarginSeconds}s`);
}

/** Every environment variable the program reads: its settings table's. */
export function knownSettings(): Set<string> {
  return new Set(Object.values(SETTINGS).map((s) => s.env));
}

/** What the kubelet puts where the pod spec says valueFrom.fieldRef, for a pod in namespace "cache". */
export function fakeFieldValues(names: RingNames): Record<string, string> {
  return { 'status.podIP': '10.0.0.5', 'metadata.namespace': 'cache', 'metadata.name': `${names.statefulSet}-0` };
}

/**
 * The container's environment as the process would see it: plain values as
 * written, fieldRefs resolved to fakeFieldValues, plus the variables the
 * kubelet adds to every pod that the program reads.
 */
export function podEnvironment(objects: K8sObject[], names: RingNames): Record<string, string> {
  const fields = fakeFieldValues(names);
  const env: Record<string, string> = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  for (const e of container(objects, names).env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      // What a Secret of the schema's shape would hold: a long token.
      env[e.name] = 'a-token-from-the-secret-0123456789';
    } else if (e.valueFrom) {
      const path = e.valueFrom.fieldRef?.fieldPath;
      const value = path === undefined ? undefined : fields[path];
      assert.ok(value !== undefined, `env ${e.name}: no stand-in for ${JSON.stringify(e.valueFrom)}`);
      env[e.name] = value;
    } else {
      env[e.name] = e.value ?? '';
    }
  }
  return env;
}

/** loadConfig on the pod's environment; fails the test with the program's own message when it would refuse to start. */
export function programConfig(objects: K8sObject[], names: RingNames): Config {
  try {
    return loadConfig(podEnvironment(objects, names));
  } catch (err) {
    return assert.fail(`the program would refuse this environment: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The container sets only variables the program reads (apart from `others`,
 * e.g. NODE_OPTIONS from extraEnv, which must not look like geecache's own),
 * and the program accepts their values and ends up where the manifests expect.
 */
export function checkProgramConfig(objects: K8sObject[], names: RingNames, groups: string[], others: string[] = []): void {
  const known = knownSettings();
  for (const e of container(objects, names).env ?? []) {
    if (known.has(e.name)) continue;
    assert.ok(others.includes(e.name), `env ${e.name} is not a setting the program reads`);
    assert.doesNotMatch(e.name, /^(GEECACHE|LOG|POD)_/, `${e.name} looks like a geecache setting but is not one`);
  }
  const config = programConfig(objects, names);
  const ports = containerPorts(container(objects, names));
  assert.equal(config.discovery, 'kubernetes');
  assert.equal(config.port, ports.peer);
  assert.equal(config.httpPort, ports.http);
  assert.equal(config.bind, '0.0.0.0', 'listens on the pod IP');
  assert.equal(config.self, `http://10.0.0.5:${ports.peer}`, 'self comes from POD_IP and the peer port');
  assert.equal(config.service, names.peerService);
  assert.equal(config.namespace, 'cache');
  assert.equal(config.peerPortName, one<IService>(objects, 'Service', names.peerService).spec?.ports?.[0]?.name);
  assert.equal(config.inCluster, true);
  assert.equal(config.kubeconfig, undefined);
  assert.deepEqual(config.groups.map((g) => g.name), groups);
}

export function checkScrapeAnnotations(objects: K8sObject[], names: RingNames): void {
  const annotations = statefulSet(objects, names).spec?.template.metadata?.annotations ?? {};
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/port'], String(containerPorts(container(objects, names)).http));
  assert.equal(annotations['prometheus.io/path'], '/metrics');
}

export function checkAntiAffinity(objects: K8sObject[], names: RingNames): void {
  const preferred = podSpec(objects, names).affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  assert.equal(preferred?.length, 1);
  const term = preferred?.[0]?.podAffinityTerm;
  assert.equal(term?.topologyKey, 'kubernetes.io/hostname');
  assert.deepEqual(term?.labelSelector?.matchLabels, selectorLabels(objects, names));
  assert.equal(podSpec(objects, names).affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution, undefined, 'soft, so 3 pods fit on fewer nodes');
}

export function checkDisruptionBudget(objects: K8sObject[], names: RingNames): void {
  const pdb = one<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
  assert.equal(pdb.spec?.maxUnavailable, 1);
  assert.deepEqual(pdb.spec?.selector?.matchLabels, selectorLabels(objects, names));
}

export function checkNetworkPolicy(objects: K8sObject[], names: RingNames): void {
  const policy = one<INetworkPolicy>(objects, 'NetworkPolicy');
  const selector = selectorLabels(objects, names);
  assert.deepEqual(policy.spec?.podSelector?.matchLabels, selector);
  assert.deepEqual(policy.spec?.policyTypes, ['Ingress']);
  const rules = policy.spec?.ingress ?? [];
  const portsOf = (rule: (typeof rules)[number]) => (rule.ports ?? []).map((p) => p.port);
  const peerRules = rules.filter((r) => portsOf(r).includes('peer') || portsOf(r).includes(8001));
  assert.equal(peerRules.length, 1, 'one rule admits the peer port');
  const peerFrom = peerRules[0]?.from ?? [];
  assert.ok(peerFrom.length > 0, 'the peer rule names its sources');
  for (const source of peerFrom) {
    assert.deepEqual(source.podSelector?.matchLabels, selector, 'only this release’s pods reach the peer port');
    assert.equal(source.namespaceSelector, undefined);
    assert.equal(source.ipBlock, undefined);
  }
  const httpRules = rules.filter((r) => portsOf(r).includes('http'));
  assert.equal(httpRules.length, 1);
  assert.equal(httpRules[0]?.from, undefined, 'the HTTP port is open to everyone');
  assert.ok(!portsOf(httpRules[0] ?? {}).includes('peer'));
  assert.ok(rules.every((r) => (r.ports ?? []).length > 0), 'no rule admits every port');
}

/**
 * What the chart and deploy/ must agree on, with volatile labels (chart
 * version, managed-by) left out. Compared with deepEqual across the two.
 */
export function ringSummary(objects: K8sObject[], names: RingNames): Record<string, unknown> {
  const sts = statefulSet(objects, names);
  const pod = podSpec(objects, names);
  const c = container(objects, names);
  const services = ofKind<IService & K8sObject>(objects, 'Service').map((s) => ({
    name: s.metadata.name,
    clusterIP: s.spec?.clusterIP ?? null,
    publishNotReadyAddresses: s.spec?.publishNotReadyAddresses ?? null,
    selector: s.spec?.selector,
    ports: s.spec?.ports,
    component: s.metadata.labels?.['app.kubernetes.io/component'],
  }));
  services.sort((a, b) => a.name.localeCompare(b.name));
  return {
    kinds: objects.map((o) => o.kind).sort(),
    selector: sts.spec?.selector,
    replicas: sts.spec?.replicas,
    podManagementPolicy: sts.spec?.podManagementPolicy,
    serviceName: sts.spec?.serviceName,
    services,
    rules: one<IRole>(objects, 'Role').rules,
    image: c.image,
    ports: c.ports,
    env: c.env,
    readinessProbe: c.readinessProbe,
    livenessProbe: c.livenessProbe,
    lifecycle: c.lifecycle,
    resources: c.resources,
    containerSecurity: c.securityContext,
    podSecurity: pod.securityContext,
    grace: pod.terminationGracePeriodSeconds,
    affinity: pod.affinity,
    volumes: pod.volumes,
    volumeMounts: c.volumeMounts,
    annotations: sts.spec?.template.metadata?.annotations,
    networkPolicy: (one<INetworkPolicy>(objects, 'NetworkPolicy')).spec,
    pdb: (one<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')).spec,
  };
}
