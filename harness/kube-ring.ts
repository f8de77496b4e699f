// kube-ring.ts runs real geecache processes as "pods" on loopback addresses, found through EndpointSlices of a
// fake Kubernetes API server: a ring whose membership a test changes as a StatefulSet's would change. A layer over
// cache-process.ts (the same process starter as every other ring), for the handoff tests and the bench's handoff case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheProcess } from './cache-process.js';
import { endpointSlice, FakeKubeApiServer, writeKubeConfigFile, type TestEndpoint } from './fake-kube-apiserver.js';
import { freePortOnAll } from './ports.js';
import { sleep } from './wait.js';

const NAMESPACE = 'geecache-ring';

export interface KubePodPlace {
  host: string;
  peerPort: number;
  httpPort: number;
  kubeconfig: string;
  namespace: string;
  service: string;
}

/** What a pod of a ring found through the fake API server is told, as the chart tells a pod: where it is and whom to watch. */
export function kubePodEnv(place: KubePodPlace): Record<string, string> {
  return {
    GEECACHE_DISCOVERY: 'kubernetes',
    GEECACHE_SERVICE: place.service,
    POD_NAMESPACE: place.namespace,
    POD_IP: place.host,
    GEECACHE_BIND: place.host,
    GEECACHE_PORT: String(place.peerPort),
    GEECACHE_HTTP_PORT: String(place.httpPort),
    KUBECONFIG: place.kubeconfig,
    GEECACHE_DISCOVERY_DEBOUNCE_MS: '100',
  };
}
const SERVICE = 'geecache-peers';

export interface KubeRingOptions {
  /** Loopback addresses pods may take (127.0.0.x), one pod each. */
  hosts: readonly string[];
  /** Environment of every pod on top of what discovery needs (GEECACHE_GROUPS at least). */
  env: Record<string, string>;
}

/** A ring of pods whose membership the caller drives: add, terminate (SIGTERM), kill (SIGKILL), restart. */
export class KubeRing {
  readonly pods = new Map<string, CacheProcess>();
  /** Pods ended with SIGKILL, from the moment the signal is sent. */
  readonly killed = new Set<CacheProcess>();
  /** Endpoint conditions as published, by host. */
  private readonly endpoints = new Map<string, Omit<TestEndpoint, 'ip'>>();
  private generation = 0;

  private constructor(
    private readonly api: FakeKubeApiServer,
    private readonly dir: string,
    private readonly kubeconfig: string,
    readonly peerPort: number,
    readonly httpPort: number,
    private readonly options: KubeRingOptions,
  ) {}

  static async start(options: KubeRingOptions): Promise<KubeRing> {
    const api = await FakeKubeApiServer.start({ host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'geecache-kube-ring-'));
    const kubeconfig = writeKubeConfigFile(api, join(dir, 'kubeconfig'), NAMESPACE);
    const peerPort = await freePortOnAll(options.hosts);
    const httpPort = await freePortOnAll(options.hosts, [peerPort]);
    return new KubeRing(api, dir, kubeconfig, peerPort, httpPort, options);
  }

  peerUrl(host: string): string {
    return `http://${host}:${this.peerPort}`;
  }

  /** Starts a pod on `host`, publishes it once it is ready, and waits until every pod lists the new ring. */
  async add(host: string): Promise<CacheProcess> {
    const pod = new CacheProcess({
      name: `pod@${host}#${++this.generation}`,
      host,
      httpPort: this.httpPort,
      env: {
        ...kubePodEnv({ host, peerPort: this.peerPort, httpPort: this.httpPort, kubeconfig: this.kubeconfig, namespace: NAMESPACE, service: SERVICE }),
        GEECACHE_DRAIN_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'warn',
        ...this.options.env,
      },
    });
    this.pods.set(host, pod);
    // As the kubelet and the EndpointSlice controller do: the pod's endpoint is ready once its readiness probe passes.
    await this.until(`${pod.name} to be ready`, 20_000, async () => (await pod.get('/readyz')).status === 200);
    this.endpoints.set(host, {});
    this.publish();
    await this.converged();
    return pod;
  }

  /** What a StatefulSet scale-down or rolling restart does: the endpoint turns terminating, then SIGTERM; waits for the exit. */
  async terminate(host: string): Promise<void> {
    const pod = this.pods.get(host)!;
    this.endpoints.set(host, { ready: false, serving: true, terminating: true });
    this.publish();
    await this.converged();
    await pod.stop(15_000);
    this.pods.delete(host);
    this.endpoints.delete(host);
    this.publish();
  }

  /** A crashed pod: SIGKILL, and its endpoint goes once the control plane notices. */
  async kill(host: string): Promise<void> {
    const pod = this.pods.get(host)!;
    this.killed.add(pod);
    pod.child.kill('SIGKILL');
    await pod.exited;
    this.pods.delete(host);
    this.endpoints.delete(host);
    this.publish();
    await this.converged();
  }

  /** A rolling restart's step: the pod terminates, a new one starts on its address and becomes ready. */
  async restart(host: string): Promise<void> {
    await this.terminate(host);
    await this.add(host);
  }

  /** Waits until every running pod lists exactly the ready endpoints. */
  async converged(): Promise<void> {
    const ready = [...this.endpoints].filter(([, e]) => !e.terminating).map(([host]) => this.peerUrl(host)).sort();
    await this.until(`every pod to list ${JSON.stringify(ready)}`, 20_000, async () => {
      // A terminating pod keeps itself in its own ring until it exits: only the others are asked.
      for (const [host, pod] of this.pods) {
        if (this.endpoints.get(host)?.terminating) continue;
        const answer = await pod.get('/debug/ring');
        if (answer.status !== 200 || JSON.stringify((JSON.parse(answer.body) as { peers: string[] }).peers) !== JSON.stringify(ready)) return false;
      }
      return true;
    });
  }

  /** The pods a Service would send requests to: published, ready and not terminating. */
  servingPods(): CacheProcess[] {
    return [...this.pods].filter(([host, pod]) => this.endpoints.has(host) && !this.endpoints.get(host)!.terminating && !pod.hasExited).map(([, pod]) => pod);
  }

  describe(): string {
    return [...this.pods.values()].map((pod) => pod.describe()).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.pods.values()].map((pod) => pod.stop()));
    await this.api.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private publish(): void {
    const endpoints = [...this.endpoints].map(([ip, conditions]) => ({ ip, ...conditions }));
    this.api.applySlice(NAMESPACE, endpointSlice({ name: `${SERVICE}-a`, service: SERVICE, port: this.peerPort, endpoints }));
  }

  private async until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`);
  }
}
