// worker-protocol.ts is what the main thread and the discovery worker say to each other.
import type { RestartReason } from './watch.js';

/** Everything the worker needs to build its KubernetesDiscovery and logger (structured-clonable). */
export interface KubernetesWorkerSettings {
  /** KUBECONFIG path list, if set. */
  kubeconfig: string | undefined;
  /** Running in a pod (KUBERNETES_SERVICE_HOST set): use the service account. */
  inCluster: boolean;
  /** POD_NAMESPACE, if set. */
  namespace: string | undefined;
  service: string;
  self: string;
  portName: string;
  debounceMs: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  logBase: Record<string, unknown>;
}

/** Worker → main. */
export type WorkerMessage =
  | { type: 'started' }
  | { type: 'failed'; message: string }
  | { type: 'peers'; peers: readonly string[] }
  | { type: 'error' }
  | { type: 'restart'; reason: RestartReason };

/** Main → worker. */
export type MainMessage = { type: 'close' };
