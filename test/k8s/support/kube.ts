// kube.ts is what the real-cluster tests share: kubectl and helm against the harness's cluster, port-forwards, polling.
// `npm run test:k8s` (scripts/test-k8s.mjs) starts the cluster and passes its coordinates in the environment.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { httpGet } from '../../../harness/cache-process.js';
import { sleep } from '../../../harness/wait.js';

export { sleep };

const execFileAsync = promisify(execFile);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests with npm run test:k8s`);
  return value;
}

/** What scripts/test-k8s.mjs tells the tests about the cluster and the images it loaded. */
export const cluster = {
  kubeconfig: required('KUBECONFIG'),
  helm: required('GEECACHE_K8S_HELM'),
  clusterScript: required('GEECACHE_K8S_CLUSTER_SH'),
  /** The node's own address on the harness's bridge: pods reach servers the tests run there. */
  nodeIp: required('GEECACHE_K8S_NODE_IP'),
  image: { repository: required('GEECACHE_K8S_IMAGE_REPOSITORY'), tag: required('GEECACHE_K8S_IMAGE_TAG') },
  curlImage: { repository: required('GEECACHE_K8S_CURL_REPOSITORY'), tag: required('GEECACHE_K8S_CURL_TAG') },
  prometheus: process.env.GEECACHE_K8S_PROMETHEUS,
};

/** Helm values that point the chart at the locally built images, which no registry serves. */
export const localImageValues = [
  `image.repository=${cluster.image.repository}`,
  `image.tag=${cluster.image.tag}`,
  'image.pullPolicy=Never',
  `tests.image.repository=${cluster.curlImage.repository}`,
  `tests.image.tag=${cluster.curlImage.tag}`,
];

export interface Run {
  stdout: string;
  stderr: string;
}

async function run(command: string, args: readonly string[], timeoutMs: number, input?: string): Promise<Run> {
  const child = execFileAsync(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: process.env });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`.trim(), { cause: err });
  }
}

export function kubectl(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<Run> {
  return run('kubectl', args, options.timeoutMs ?? 60_000, options.input);
}

export function helm(args: readonly string[], timeoutMs = 240_000): Promise<Run> {
  return run(cluster.helm, args, timeoutMs);
}

/** kubectl get ... -o json, parsed. */
export async function getJson<T = unknown>(args: readonly string[]): Promise<T> {
  return JSON.parse((await kubectl(['get', ...args, '-o', 'json'])).stdout) as T;
}

/** Registers clean-up work: node:test's after() by default; a suite whose set-up runs in before() passes its own. */
export type Cleanup = (fn: () => unknown) => void;

/** A namespace of the test's own, deleted (without waiting) at clean-up. */
export async function namespace(name: string, cleanup: Cleanup = after): Promise<string> {
  await kubectl(['create', 'namespace', name]);
  cleanup(() => kubectl(['delete', 'namespace', name, '--wait=false']).then(() => undefined, () => undefined));
  return name;
}

/** Polls `check` every `everyMs` until it returns true, or throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 500): Promise<number> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  url: string;
  close(): void;
}

/** `kubectl port-forward <target> 0:<port>`, as a user types it; resolves once kubectl says where it listens. */
export function portForward(ns: string, target: string, port: number): Promise<PortForward> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('kubectl', ['-n', ns, 'port-forward', '--address', '127.0.0.1', target, `0:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl port-forward ${target} did not start within 30 s: ${output}`));
    }, 30_000);
    const close = () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    };
    after(close);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, close });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${target} exited (${code}): ${output}`));
    });
  });
}

/** A pod as `kubectl get pods -o json` lists it, the fields these tests read. */
export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    podIP?: string;
    phase?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ restartCount: number; lastState?: unknown }>;
  };
}

export const isReady = (pod: PodJson): boolean =>
  !pod.metadata.deletionTimestamp && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The pods of a release, by the chart's selector labels. */
export async function releasePods(ns: string, release: string): Promise<PodJson[]> {
  const list = await getJson<{ items: PodJson[] }>(['pods', '-n', ns, '-l', `app.kubernetes.io/name=geecache,app.kubernetes.io/instance=${release}`]);
  return list.items;
}

/** A pod's peer URL, as its ring lists it. */
export const peerUrlOf = (pod: PodJson): string => `http://${pod.status.podIP!}:8001`;

/** The peers a pod's /debug/ring lists. */
export async function ringOf(pod: PodJson): Promise<string[]> {
  return (JSON.parse((await httpGet(`http://${pod.status.podIP!}:9999/debug/ring`)).body) as { peers: string[] }).peers;
}

/** Whether every one of `pods` has a ring of exactly `pods`. */
export async function ringsListExactly(pods: readonly PodJson[]): Promise<boolean> {
  const expected = JSON.stringify(pods.map(peerUrlOf).sort());
  for (const pod of pods) if (JSON.stringify(await ringOf(pod)) !== expected) return false;
  return true;
}
