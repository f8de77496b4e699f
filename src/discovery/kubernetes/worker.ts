// worker.ts is the entry of the discovery worker thread: it runs KubernetesDiscovery and posts what it learns.
//
// @kubernetes/client-node takes about 28 MB of heap. Loaded here, in its own isolate, it stays out of
// the heap that serves requests, whose full GCs then have a third as much to mark (docs/performance.md).
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../ops/log.js';
import { loadKubeConfig, namespaceFor } from './kubeconfig.js';
import { KubernetesDiscovery } from './watch.js';
import type { KubernetesWorkerSettings, MainMessage, WorkerMessage } from './worker-protocol.js';

const port = parentPort!;
const settings = workerData as KubernetesWorkerSettings;
const post = (message: WorkerMessage): void => port.postMessage(message);

let discovery: KubernetesDiscovery;
try {
  const kubeConfig = loadKubeConfig({ KUBECONFIG: settings.kubeconfig, KUBERNETES_SERVICE_HOST: settings.inCluster ? 'set' : undefined });
  discovery = new KubernetesDiscovery({
    kubeConfig,
    namespace: namespaceFor(kubeConfig, settings.namespace),
    service: settings.service,
    self: settings.self,
    portName: settings.portName,
    debounceMs: settings.debounceMs,
    logger: createLogger({ level: settings.logLevel, format: settings.logFormat, base: settings.logBase }),
    onError: () => post({ type: 'error' }),
    onRestart: (reason) => post({ type: 'restart', reason }),
  });
  post({ type: 'started' });
  discovery.start((peers) => post({ type: 'peers', peers }));
  port.on('message', (message: MainMessage) => {
    if (message.type !== 'close') return;
    // process.exit in a worker ends the thread, not the process: client-node's idle sockets cannot hold it.
    void discovery.close().finally(() => process.exit(0));
  });
} catch (err) {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
