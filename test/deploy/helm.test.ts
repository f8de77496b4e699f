// helm.test.ts lints and renders helm/geecache with the real helm binary and checks what it produces.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { chartDir, helm, helmLint, helmTemplate, helmTemplateError, one, ofKind, renderNotes, runHelm, selects, type K8sObject } from './render.js';
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
  podSpec,
  programConfig,
  ringNames,
  selectorLabels,
  statefulSet,
  allToggles,
} from './checks.js';

const names = ringNames('geecache');
const isHook = (o: K8sObject) => o.metadata.annotations?.['helm.sh/hook'] !== undefined;

describe('helm chart', () => {
  let defaults: K8sObject[];
  let toggled: K8sObject[];

  before(() => {
    helm();
    defaults = helmTemplate();
    toggled = helmTemplate(allToggles);
  });

  it('passes helm lint, also with --strict', () => {
    const lint = runHelm(['lint', chartDir]);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    const strict = runHelm(['lint', '--strict', chartDir]);
    assert.equal(strict.status, 0, strict.stdout + strict.stderr);
    const toggledLint = runHelm(['lint', '--strict', chartDir, '--set', 'serviceMonitor.enabled=true,rbac.create=false']);
    assert.equal(toggledLint.status, 0, toggledLint.stdout + toggledLint.stderr);
    const everything = helmLint(allToggles);
    assert.equal(everything.status, 0, everything.stdout + everything.stderr);
    assert.doesNotMatch(everything.stdout, /\[(WARNING|ERROR)\]/, 'not even a warning');
  });

  it('renders the expected objects by default', () => {
    const kinds = defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'NetworkPolicy/geecache',
      'Pod/geecache-test-api',
      'PodDisruptionBudget/geecache',
      'Role/geecache-endpointslice-reader',
      'RoleBinding/geecache-endpointslice-reader',
      'Secret/geecache-tokens',
      'Service/geecache',
      'Service/geecache-peers',
      'ServiceAccount/geecache',
      'StatefulSet/geecache',
    ]);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'HorizontalPodAutoscaler', 'ConfigMap']) assert.equal(ofKind(defaults, kind).length, 0, `no ${kind} by default`);
    for (const o of defaults) {
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', `${o.kind} has the chart labels`);
      assert.equal(o.metadata.labels?.['helm.sh/chart'], 'geecache-0.1.0');
    }
    assert.equal(statefulSet(defaults, names).spec?.replicas, 3);
    assert.equal(container(defaults, names).image, 'ghcr.io/geecache/geecache:0.1.0', 'tag defaults to appVersion');
  });

  for (const [label, values] of [['defaults', {}], ['all toggles', allToggles]] as const) {
    describe(`with ${label}`, () => {
      const objects = () => (label === 'defaults' ? defaults : toggled);
      it('grants exactly get/list/watch on endpointslices through a namespaced Role', () => checkRbac(objects(), names));
      it('selects the same pods from the StatefulSet and both Services', () => checkSelectors(objects(), names));
      it('exposes peer 8001 on the headless Service and http 9999 on the API Service', () => checkServices(objects(), names));
      it('wires discovery, ports and groups into the environment', () => {
        const groups = values === allToggles ? 'scores:64MiB:demo,pages:256MiB:5m+stale-while-revalidate=30s+stale-if-error=1h:http://origin.internal:8080' : 'scores:64MiB:demo';
        checkEnv(objects(), names, groups);
      });
      it('sets only variables the program reads, with values its config accepts', () => {
        const groups = values === allToggles ? ['scores', 'pages'] : ['scores'];
        checkProgramConfig(objects(), names, groups, values === allToggles ? ['NODE_OPTIONS'] : []);
        if (values === allToggles) assert.equal(programConfig(objects(), names).basePath, '/_cache/', 'extraEnv reaches the program');
      });
      it('probes /readyz and /healthz on the http port', () => checkProbes(objects(), names));
      it('runs non-root, read-only, without capabilities', () => checkSecurity(objects(), names));
      it('gives the pod time for the preStop sleep and the drain', () => checkShutdownBudget(objects(), names));
      it('annotates pods for Prometheus', () => checkScrapeAnnotations(objects(), names));
      it('spreads pods over nodes', () => checkAntiAffinity(objects(), names));
      it('allows one voluntary disruption at a time', () => checkDisruptionBudget(objects(), names));
      it('admits only its own pods to the peer port', () => checkNetworkPolicy(objects(), names));
    });
  }

  it('renders a ServiceMonitor for the API Service only when enabled', () => {
    const monitor = one<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector?: { matchNames?: string[] }; endpoints: unknown[] } }>(toggled, 'ServiceMonitor');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.labels?.release, 'kube-prometheus', 'serviceMonitor.labels are added');
    assert.deepEqual(monitor.spec.endpoints, [{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
    assert.deepEqual(monitor.spec.namespaceSelector?.matchNames, ['cache']);
    const api = one<IService & K8sObject>(toggled, 'Service', names.apiService);
    const peers = one<IService & K8sObject>(toggled, 'Service', names.peerService);
    assert.ok(selects(monitor.spec.selector.matchLabels, api.metadata.labels), 'selects the API Service');
    assert.ok(!selects(monitor.spec.selector.matchLabels, peers.metadata.labels), 'not the headless Service, which has no http port');
    assert.ok(api.spec?.ports?.some((p) => p.name === 'http'));
  });

  it('appends extraEnv, merges podAnnotations and passes scheduling values through', () => {
    const c = container(toggled, names);
    const env = c.env ?? [];
    assert.deepEqual(env.slice(-2), allToggles.extraEnv, 'extraEnv comes last, unchanged');
    assert.equal(envMap(c).get('GEECACHE_DISCOVERY'), 'kubernetes', 'extraEnv does not replace the fixed settings');
    const template = statefulSet(toggled, names).spec?.template;
    assert.equal(template?.metadata?.annotations?.['example.com/team'], 'cache');
    assert.equal(template?.metadata?.annotations?.['prometheus.io/scrape'], 'true');
    assert.equal(template?.metadata?.labels?.['example.com/tier'], 'cache');
    assert.deepEqual(statefulSet(toggled, names).spec?.selector.matchLabels, selectorLabels(defaults, names), 'podLabels never reach the selector');
    const pod = podSpec(toggled, names);
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(pod.tolerations, allToggles.tolerations);
    const account = one<K8sObject>(toggled, 'ServiceAccount');
    assert.equal(account.metadata.annotations?.['example.com/role'], 'cache');
  });

  it('sizes the StatefulSet with an autoscaling/v2 HPA when enabled, and then leaves replicas out', () => {
    assert.equal(statefulSet(defaults, names).spec?.replicas, 3, 'replicaCount without autoscaling');
    const hpa = one<IHorizontalPodAutoscaler & K8sObject>(toggled, 'HorizontalPodAutoscaler', 'geecache');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: statefulSet(toggled, names).metadata?.name });
    assert.equal(hpa.spec?.minReplicas, 3);
    assert.equal(hpa.spec?.maxReplicas, 6);
    assert.deepEqual(hpa.spec?.metrics, [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 90 } } },
    ]);
    assert.deepEqual(hpa.spec?.behavior, allToggles.autoscaling.behavior);
    assert.ok(!('replicas' in (statefulSet(toggled, names).spec ?? {})), 'the HPA owns the replica count');
    const cpuOnly = one<IHorizontalPodAutoscaler>(helmTemplate({ autoscaling: { enabled: true } }), 'HorizontalPodAutoscaler');
    assert.deepEqual(cpuOnly.spec?.metrics?.map((m) => m.resource?.name), ['cpu'], 'memory is off by default');
    assert.equal(cpuOnly.spec?.behavior, undefined);
    const memoryOnly = one<IHorizontalPodAutoscaler>(helmTemplate({ autoscaling: { enabled: true, targetCPUUtilizationPercentage: null, targetMemoryUtilizationPercentage: 80 } }), 'HorizontalPodAutoscaler');
    assert.deepEqual(memoryOnly.spec?.metrics?.map((m) => m.resource?.name), ['memory']);
  });

  it('refuses an autoscaler without a target, or with minReplicas above maxReplicas', () => {
    assert.match(
      helmTemplateError({ autoscaling: { enabled: true, targetCPUUtilizationPercentage: null } }),
      /autoscaling.enabled needs a target: set autoscaling.targetCPUUtilizationPercentage, autoscaling.targetMemoryUtilizationPercentage, or both/,
    );
    assert.match(helmTemplateError({ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 4 } }), /autoscaling.minReplicas \(5\) must not exceed autoscaling.maxReplicas \(4\)/);
    assert.match(helmTemplateError({ autoscaling: { enabled: true, targetCPUUtilizationPercentage: '80%' } }), /targetCPUUtilizationPercentage/);
  });

  it('spreads pods softly over zones and nodes by default; a list replaces that, [] removes it', () => {
    const selector = selectorLabels(defaults, names);
    assert.deepEqual(podSpec(defaults, names).topologySpreadConstraints, [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
    ]);
    const [own, filled] = podSpec(toggled, names).topologySpreadConstraints ?? [];
    assert.deepEqual(own, allToggles.topologySpreadConstraints[0], 'an entry with a labelSelector keeps it');
    assert.deepEqual(filled, { ...allToggles.topologySpreadConstraints[1], labelSelector: { matchLabels: selector } }, 'one without gets the selector labels');
    assert.equal(podSpec(helmTemplate({ topologySpreadConstraints: [] }), names).topologySpreadConstraints, undefined);
    assert.match(helmTemplateError({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'Sometimes' }] }), /whenUnsatisfiable/);
  });

  it('mounts the API token in the pods (discovery needs it) but not for everything else that runs as the account', () => {
    for (const objects of [defaults, toggled]) {
      assert.equal(one<IServiceAccount>(objects, 'ServiceAccount').automountServiceAccountToken, false);
      assert.equal(podSpec(objects, names).automountServiceAccountToken, true);
    }
    const existing = helmTemplate({ serviceAccount: { create: false, name: 'shared-reader' } });
    assert.equal(podSpec(existing, names).automountServiceAccountToken, true, "whatever the existing account's setting");
    assert.equal(one<IPod>(defaults, 'Pod').spec?.automountServiceAccountToken, false, 'the helm test pod (curl) needs no token');
  });

  it('gives the helm test pod small requests and limits', () => {
    const resources = one<IPod>(defaults, 'Pod').spec?.containers[0]?.resources;
    assert.deepEqual(resources, { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } });
  });

  it('leaves out the Role and RoleBinding with rbac.create=false', () => {
    const objects = helmTemplate({ rbac: { create: false } });
    assert.equal(ofKind(objects, 'Role').length, 0);
    assert.equal(ofKind(objects, 'RoleBinding').length, 0);
    assert.equal(ofKind(objects, 'ServiceAccount').length, 1, 'the account stays');
  });

  it('uses an existing ServiceAccount with serviceAccount.create=false', () => {
    const objects = helmTemplate({ serviceAccount: { create: false, name: 'shared-reader' } });
    assert.equal(ofKind(objects, 'ServiceAccount').length, 0);
    assert.equal(podSpec(objects, names).serviceAccountName, 'shared-reader');
    const binding = one<K8sObject & { subjects: { name: string; namespace: string }[] }>(objects, 'RoleBinding');
    assert.deepEqual(binding.subjects.map((s) => [s.name, s.namespace]), [['shared-reader', 'cache']]);
  });

  it('leaves out the NetworkPolicy and the PodDisruptionBudget when disabled', () => {
    const objects = helmTemplate({ networkPolicy: { enabled: false }, podDisruptionBudget: { enabled: false } });
    assert.equal(ofKind(objects, 'NetworkPolicy').length, 0);
    assert.equal(ofKind(objects, 'PodDisruptionBudget').length, 0);
    assert.equal(ofKind(objects, 'StatefulSet').length, 1);
  });

  it('passes podDisruptionBudget keys through to the spec', () => {
    const objects = helmTemplate({ podDisruptionBudget: { enabled: true, maxUnavailable: null, minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' } });
    const pdb = one<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    assert.equal(pdb.spec?.minAvailable, 2);
    assert.equal(pdb.spec?.maxUnavailable, undefined);
    assert.equal(pdb.spec?.unhealthyPodEvictionPolicy, 'AlwaysAllow');
    assert.ok(!('enabled' in (pdb.spec ?? {})), '"enabled" is not copied into the spec');
  });

  it('replaces the default anti-affinity with the affinity value', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['cache'] }] }] } } };
    const objects = helmTemplate({ affinity });
    assert.deepEqual(podSpec(objects, names).affinity, affinity);
  });

  it('drops the Prometheus pod annotations with metrics.podAnnotations=false', () => {
    const objects = helmTemplate({ metrics: { podAnnotations: false } });
    assert.equal(statefulSet(objects, names).spec?.template.metadata?.annotations, undefined);
  });

  it('names everything after the release and keeps names within 63 characters', () => {
    const other = helmTemplate({}, [], 'cache');
    const otherNames = ringNames('cache-geecache');
    checkSelectors(other, otherNames);
    checkEnv(other, otherNames, 'scores:64MiB:demo');
    assert.equal(selectorLabels(other, otherNames)['app.kubernetes.io/instance'], 'cache');

    // Release names stop at 53 characters; with "-geecache" that makes a 62-character full name.
    const long = 'a-release-name-that-is-quite-long-and-goes-on-and-on1';
    assert.equal(long.length, 53);
    const objects = helmTemplate({}, [], long);
    for (const o of objects) assert.ok(o.metadata.name.length <= 253, `${o.kind} ${o.metadata.name} fits a DNS subdomain`);
    const services = ofKind<K8sObject>(objects, 'Service').map((s) => s.metadata.name);
    for (const name of services) assert.ok(name.length <= 63, `Service ${name} fits a DNS label`);
    assert.equal(new Set(services).size, 2, 'the two Services keep distinct names');
    const peerService = services.find((n) => n.endsWith('-peers'));
    assert.ok(peerService);
    const sts = one<K8sObject>(objects, 'StatefulSet');
    assert.ok(sts.metadata.name.length <= 52, 'StatefulSet name leaves room for the controller-revision-hash label');
    const longNames = { ...ringNames(`${long}-geecache`), statefulSet: sts.metadata.name, peerService };
    checkSelectors(objects, longNames);
    assert.equal(envMap(container(objects, longNames)).get('GEECACHE_SERVICE'), peerService);
  });

  it('defines a helm test that asks the API Service for Tom with a pinned curl image, outside every selector', () => {
    const test = one<IPod & K8sObject>(defaults, 'Pod');
    assert.equal(test.metadata.annotations?.['helm.sh/hook'], 'test');
    const c = test.spec?.containers[0];
    assert.match(c?.image ?? '', /^curlimages\/curl:\d+\.\d+\.\d+$/);
    const url = c?.env?.find((e) => e.name === 'URL')?.value;
    assert.equal(url, 'http://geecache:9999/api?key=Tom');
    assert.equal(c?.env?.find((e) => e.name === 'EXPECTED')?.value, '630');
    assert.equal(test.spec?.restartPolicy, 'Never');
    // With the selector labels, the test pod would join the Services (and the ring).
    const selectors = [
      ...ofKind<IService>(defaults, 'Service').map((s) => s.spec?.selector),
      selectorLabels(defaults, names),
      one<IPodDisruptionBudget>(defaults, 'PodDisruptionBudget').spec?.selector?.matchLabels,
    ];
    for (const selector of selectors) assert.ok(!selects(selector, test.metadata.labels), 'the test pod matches no selector');
    assert.ok(!ofKind<K8sObject>(defaults, 'StatefulSet').some(isHook));
  });

  it('prints the port-forward, curl and metrics commands in NOTES.txt', () => {
    const notes = renderNotes();
    assert.ok(notes.includes('kubectl port-forward svc/geecache 9999:9999'), notes);
    assert.ok(notes.includes('curl "localhost:9999/api?key=Tom"'), notes);
    assert.ok(notes.includes('http://localhost:9999/metrics'), notes);
    assert.ok(!notes.includes('rbac.create is false'));
    assert.ok(notes.includes('is starting as 3 pods'), notes);
    const toggledNotes = renderNotes(allToggles);
    assert.ok(toggledNotes.includes('keeps it between 3 and 6 pods'), toggledNotes);
    assert.ok(toggledNotes.includes('kubectl get hpa geecache'), toggledNotes);
    assert.ok(toggledNotes.includes('the PrometheusRule geecache'), toggledNotes);
    assert.ok(toggledNotes.includes('the ConfigMap geecache-dashboard (namespace monitoring)'), toggledNotes);
    const withoutRbac = renderNotes({ rbac: { create: false } });
    assert.match(withoutRbac, /grant the ServiceAccount geecache get, list and watch on\s+endpointslices/);
  });

  it('passes the invalidation and peer tokens from Secrets: existing ones, or its own from the values; a generated peer token by default', () => {
    assert.equal(envMap(container(defaults, names)).has('GEECACHE_ADMIN_TOKEN'), false);
    assert.equal(programConfig(defaults, names).adminToken, undefined);
    assert.equal(envMap(container(defaults, names)).get('GEECACHE_PEER_TOKEN'), 'secretKeyRef:geecache-tokens/peer-token');
    const generated = one<K8sObject & { data?: Record<string, string> }>(defaults, 'Secret', 'geecache-tokens');
    assert.deepEqual(Object.keys(generated.data ?? {}), ['peer-token'], 'only the peer token is made up');
    assert.match(Buffer.from(generated.data!['peer-token']!, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
    const withoutToken = helmTemplate({ peerToken: { generate: false } });
    assert.equal(envMap(container(withoutToken, names)).has('GEECACHE_PEER_TOKEN'), false);
    assert.equal(ofKind(withoutToken, 'Secret').length, 0);
    assert.equal(envMap(container(toggled, names)).get('GEECACHE_ADMIN_TOKEN'), 'secretKeyRef:geecache-admin/token');
    assert.equal(ofKind(toggled, 'Secret').length, 0, 'an existing Secret is not created again');
    assert.ok(programConfig(toggled, names).adminToken);
    const own = helmTemplate({ adminToken: { value: 'a-token-of-at-least-16' }, peerToken: { value: 'a-peer-token-of-16+' } });
    assert.equal(envMap(container(own, names)).get('GEECACHE_ADMIN_TOKEN'), 'secretKeyRef:geecache-tokens/admin-token');
    assert.equal(envMap(container(own, names)).get('GEECACHE_PEER_TOKEN'), 'secretKeyRef:geecache-tokens/peer-token');
    const secret = one<K8sObject & { data?: Record<string, string> }>(own, 'Secret', 'geecache-tokens');
    assert.equal(Buffer.from(secret.data!['admin-token']!, 'base64').toString(), 'a-token-of-at-least-16');
    assert.equal(Buffer.from(secret.data!['peer-token']!, 'base64').toString(), 'a-peer-token-of-16+');
    assert.ok(programConfig(own, names).peerToken);
    assert.match(helmTemplateError({ adminToken: { value: 'short' } }), /adminToken\.value|pattern/);
  });

  it('serves /debug/ring where debugRing says: the HTTP port by default, the peer port, or nowhere', () => {
    assert.equal(envMap(container(defaults, names)).get('GEECACHE_DEBUG_RING'), 'http');
    assert.equal(programConfig(defaults, names).debugRing, 'http');
    const peerOnly = helmTemplate({ debugRing: 'peer' });
    assert.equal(programConfig(peerOnly, names).debugRing, 'peer');
    // An unquoted off in a values file is YAML's false: it means off, as it reads.
    assert.equal(programConfig(helmTemplate({ debugRing: 'off' }), names).debugRing, 'off');
    assert.equal(programConfig(helmTemplate({ debugRing: false }), names).debugRing, 'off');
    assert.match(helmTemplateError({ debugRing: 'api' }), /debugRing/);
  });

  it('mounts peerTLS.existingSecret whole and points GEECACHE_PEER_TLS_DIR at it; off by default; enabled without a Secret fails', () => {
    assert.equal(envMap(container(defaults, names)).has('GEECACHE_PEER_TLS_DIR'), false);
    assert.equal(programConfig(defaults, names).peerTlsDir, undefined);
    const tls = helmTemplate({ peerTLS: { enabled: true, existingSecret: 'geecache-peer-tls' } });
    const dir = envMap(container(tls, names)).get('GEECACHE_PEER_TLS_DIR');
    const mount = container(tls, names).volumeMounts?.find((m) => m.mountPath === dir);
    assert.ok(mount, `a volume is mounted at ${dir}`);
    assert.equal(mount.readOnly, true);
    assert.equal(mount.subPath, undefined, 'a subPath mount never sees the Secret change');
    const volume = podSpec(tls, names).volumes?.find((v) => v.name === mount.name);
    assert.equal(volume?.secret?.secretName, 'geecache-peer-tls');
    assert.equal(programConfig(tls, names).peerTlsDir, dir);
    assert.match(helmTemplateError({ peerTLS: { enabled: true } }), /peerTLS\.existingSecret/);
  });

  it('derives the memory request and limit from the groups\' budgets, unless resources sets them', () => {
    const memory = (objects: K8sObject[]) => {
      const { requests, limits } = container(objects, names).resources ?? {};
      return [requests?.memory, limits?.memory, requests?.cpu, limits?.cpu];
    };
    assert.deepEqual(memory(defaults), ['240Mi', '400Mi', '100m', '1'], '144 + 64 x 1.5, + 160');
    const groups = [
      { name: 'a', bytes: '1.5GiB', source: 'demo' },
      { name: 'b', bytes: 1048576, source: 'demo' },
      { name: 'c', bytes: '512KiB', source: 'demo' },
    ];
    // 1536 + 1 + 0.5 MiB = 1537.5 MiB of budget: 144 + 2306.25, rounded up.
    assert.deepEqual(memory(helmTemplate({ groups })), ['2451Mi', '2611Mi', '100m', '1']);
    assert.deepEqual(memory(helmTemplate({ memory: { baseMiB: 64, budgetFactor: 2, headroomMiB: 0 } })), ['192Mi', '192Mi', '100m', '1']);
    assert.deepEqual(memory(helmTemplate({ resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } } })), ['1Gi', '2Gi', '100m', '1']);
    assert.match(helmTemplateError({ memory: { baseMiB: 64, budgetFactor: 0.5, headroomMiB: 0 } }), /budgetFactor|minimum/);
  });

  it('renders a group\'s stale windows into its freshness field, with 0s when it has no TTL', () => {
    const objects = helmTemplate({ groups: [{ name: 'p', bytes: '1MiB', staleIfError: '1h', source: 'demo' }] });
    assert.equal(envMap(container(objects, names)).get('GEECACHE_GROUPS'), 'p:1MiB:0s+stale-if-error=1h:demo');
    assert.deepEqual(programConfig(objects, names).groups[0], { name: 'p', cacheBytes: 2 ** 20, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 3_600_000, source: { kind: 'demo' } });
    assert.match(helmTemplateError({ groups: [{ name: 'p', bytes: '1MiB', staleIfError: 'soon', source: 'demo' }] }), /staleIfError|pattern/);
  });

  it('renders every group byte size the schema admits in a form the program parses', () => {
    const groups = [
      { name: 'whole', bytes: 67108864, source: 'demo' },
      { name: 'iec', bytes: '64MiB', source: 'demo' },
      { name: 'fraction', bytes: '1.5GiB', source: 'https://origin.example/v1/' },
      { name: 'plain', bytes: '1048576B', source: 'http://10.0.0.9:8080' },
      { name: 'fresh', bytes: '1MiB', ttl: '30s', source: 'http://10.0.0.9:8080' },
    ];
    const objects = helmTemplate({ groups });
    // A whole number from a values file reaches the template as a float; it must not print as 6.7108864e+07.
    assert.equal(envMap(container(objects, names)).get('GEECACHE_GROUPS'), 'whole:67108864:demo,iec:64MiB:demo,fraction:1.5GiB:https://origin.example/v1/,plain:1048576B:http://10.0.0.9:8080,fresh:1MiB:30s:http://10.0.0.9:8080');
    assert.deepEqual(programConfig(objects, names).groups, [
      { name: 'whole', cacheBytes: 67108864, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'demo' } },
      { name: 'iec', cacheBytes: 64 * 1024 ** 2, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'demo' } },
      { name: 'fraction', cacheBytes: 1.5 * 1024 ** 3, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'http', origin: 'https://origin.example/v1' } },
      { name: 'plain', cacheBytes: 1048576, ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'http', origin: 'http://10.0.0.9:8080' } },
      { name: 'fresh', cacheBytes: 1048576, ttlMs: 30_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, source: { kind: 'http', origin: 'http://10.0.0.9:8080' } },
    ]);
  });

  it('accepts a shutdown delay through extraEnv when the grace period covers it', () => {
    const objects = helmTemplate({ extraEnv: [{ name: 'GEECACHE_SHUTDOWN_DELAY_MS', value: '3000' }] });
    assert.equal(programConfig(objects, names).shutdownDelayMs, 3000);
    checkShutdownBudget(objects, names);
  });

  it('refuses values that would break the pods', () => {
    assert.match(helmTemplateError({ groups: [] }), /groups/);
    assert.match(helmTemplateError({ groups: [{ name: 'scores', bytes: '64MiB', source: 'ftp://origin' }] }), /source/);
    assert.match(helmTemplateError({ groups: [{ name: 'a:b', bytes: '64MiB', source: 'demo' }] }), /name/);
    assert.match(helmTemplateError({ groups: [{ name: 'scores', bytes: '64MB', source: 'demo' }] }), /bytes/);
    assert.match(helmTemplateError({ groups: [{ name: 'scores', bytes: '64MiB', ttl: '5 minutes', source: 'demo' }] }), /ttl/);
    assert.match(helmTemplateError({ terminationGracePeriodSeconds: 12 }), /terminationGracePeriodSeconds \(12\) must exceed/);
    assert.match(helmTemplateError({ drainTimeoutMs: 30000 }), /must exceed .* = 40/);
    assert.match(helmTemplateError({ replicaCount: '3' }), /replicaCount/);
    // What the program's own validation would refuse at start-up (a crash loop) is refused here first.
    assert.match(helmTemplateError({ groups: [{ name: 'scores', bytes: '1TiB', source: 'demo' }] }), /bytes/, 'the program has no TiB');
    assert.match(helmTemplateError({ groups: [{ name: 'scöres', bytes: '64MiB', source: 'demo' }] }), /name/, 'group names are [A-Za-z0-9_.-]');
    assert.match(helmTemplateError({ ports: { peer: 9999, http: 9999 } }), /ports.peer and ports.http must differ/);
    // A server-side wait before the drain, set through extraEnv, counts against the grace period.
    assert.match(
      helmTemplateError({ extraEnv: [{ name: 'GEECACHE_SHUTDOWN_DELAY_MS', value: '20000' }] }),
      /must exceed .*GEECACHE_SHUTDOWN_DELAY_MS.* = 40/,
    );
    assert.match(helmTemplateError({ serviceMonitr: { enabled: true } }), /serviceMonitr/, 'typos in value names are caught');
  });
});
