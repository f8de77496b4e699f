// worker-discovery.ts runs Kubernetes discovery in a worker thread and presents it to the pod as a Discovery.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import type { Discovery, PeersListener } from '../discovery.js';
import type { RestartReason } from './watch.js';
import type { KubernetesWorkerSettings, MainMessage, WorkerMessage } from './worker-protocol.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

export interface WorkerDiscoveryOptions {
  settings: KubernetesWorkerSettings;
  logger: Logger;
  onError?: () => void;
  onRestart?: (reason: RestartReason) => void;
  /** How long close() lets the worker stop its watch before terminating it. Default 5000. */
  closeTimeoutMs?: number;
  /** Wait before a worker that died is started again. Default 1000. */
  respawnDelayMs?: number;
}

/**
 * KubernetesDiscovery (and @kubernetes/client-node with it) lives in a worker thread, so its
 * heap is not the one that serves requests. Peer lists, errors and restarts come back as
 * messages. A worker that dies is started again; the last peer list stays in force meanwhile.
 */
export class WorkerDiscovery implements Discovery {
  hasListed = false;
  peers: readonly string[] = [];
  /** Settles once the worker has built its watch; rejects with a ConfigError when it cannot (credentials, namespace). */
  readonly ready: Promise<void>;
  readonly #options: WorkerDiscoveryOptions;
  #settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #listener: PeersListener | undefined;
  #worker: Worker | undefined;
  #respawnTimer: NodeJS.Timeout | undefined;
  #failed = false;
  #closed = false;

  constructor(options: WorkerDiscoveryOptions) {
    this.#options = options;
    this.ready = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    // Callers that never await ready must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  start(listener: PeersListener): void {
    if (this.#listener || this.#closed) return;
    this.#listener = listener;
    this.#spawn();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#respawnTimer);
    // A shutdown during start-up is not a failure: start() may finish, and the pod drains as usual.
    this.#settle?.resolve();
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'close' } satisfies MainMessage);
    const timer = setTimeout(() => void worker.terminate(), this.#options.closeTimeoutMs ?? 5000);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): void {
    const { settings, logger, onRestart } = this.#options;
    const worker = new Worker(WORKER_URL, { workerData: settings });
    this.#worker = worker;
    worker.on('message', (message: WorkerMessage) => this.#receive(message));
    worker.on('error', (err) => logger.error({ err }, 'discovery worker failed'));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (this.#closed || this.#failed) return;
      this.#settle?.reject(new Error(`discovery worker exited (code ${code}) before it started`));
      logger.error({ code, peers: this.peers.length }, 'discovery worker exited; keeping the last peer list and starting it again');
      onRestart?.('error');
      this.#respawnTimer = setTimeout(() => this.#spawn(), this.#options.respawnDelayMs ?? 1000);
    });
  }

  #receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'started':
        this.#settle?.resolve();
        this.#settle = undefined;
        return;
      case 'failed':
        this.#failed = true;
        this.#settle?.reject(new ConfigError('discovery', message.message));
        this.#settle = undefined;
        return;
      case 'peers':
        if (this.#closed) return;
        this.peers = message.peers;
        this.hasListed = true;
        this.#listener?.(message.peers);
        return;
      case 'error':
        this.#options.onError?.();
        return;
      case 'restart':
        this.#options.onRestart?.(message.reason);
        return;
    }
  }
}
