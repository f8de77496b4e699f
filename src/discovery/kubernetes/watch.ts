// watch.ts finds peers by watching the EndpointSlices of the pods' Service through the Kubernetes API.
import {
  DiscoveryV1Api,
  KubeConfig,
  ListWatch,
  Observable,
  Watch,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type V1EndpointSlice,
  type V1EndpointSliceList,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { samePeers, trimPeerUrl } from '../../engine/peer-url.js';
import type { Discovery, PeersListener } from '../discovery.js';
import { peersFromSlices } from './endpoint-slices.js';

/** Timer functions, injectable so tests can run backoff and debounce on fast time. */
export interface DiscoveryTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: DiscoveryTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type RestartReason = 'error' | 'resync';

export interface KubernetesDiscoveryOptions {
  /** Credentials and API server; see loadKubeConfig(). */
  kubeConfig: KubeConfig;
  /** Namespace of the Service (see podNamespace()). */
  namespace: string;
  /** Name of the Service whose EndpointSlices list the peers (label kubernetes.io/service-name). */
  service: string;
  /** This pod's own base URL, e.g. `http://10.0.0.5:8001`; always in the list. */
  self: string;
  /** Name of the Service port peers listen on. Default `peer`. */
  portName?: string;
  /** Changes are collected for this long before one delivery. Default 500 ms. The first list is delivered at once. */
  debounceMs?: number;
  /** First restart delay after an error. Default 500 ms. */
  backoffInitialMs?: number;
  /** Cap of the restart delay. Default 30 000 ms. */
  backoffMaxMs?: number;
  /** Re-list and re-watch this often, against half-open watch connections. Default 300 000 ms; 0 disables. */
  resyncMs?: number;
  /** Abort a list request after this long. Default 30 000 ms (real time, not `timers`). */
  listTimeoutMs?: number;
  /** Default: the global setTimeout/clearTimeout. */
  timers?: DiscoveryTimers;
  /** Uniform [0, 1) source for backoff jitter. Default Math.random. */
  random?: () => number;
  /** Clock for "has this watch been healthy for a while". Default Date.now. */
  now?: () => number;
  /** Default: no logging. */
  logger?: Logger;
  /** Called on every list/watch failure (wired to geecache_discovery_errors_total). */
  onError?: (err: unknown) => void;
  /** Called whenever the watch is restarted on our initiative. */
  onRestart?: (reason: RestartReason) => void;
}

/**
 * One list+watch cycle: an informer, its Watch, and the abort signal for its list.
 * A resync replaces the attempt; an error restart reuses it (the informer resumes
 * from its last resourceVersion, relisting only after 410 Gone).
 */
interface Attempt {
  readonly informer: ListWatch<V1EndpointSlice>;
  readonly watch: AbortableWatch;
  readonly abort: AbortController;
  /** A list has succeeded; the informer's cache is the Service's state. */
  listed: boolean;
  /** Between an error and the restart. */
  failed: boolean;
  startedAt: number;
  retired: boolean;
}

/**
 * client-node's ListWatch.stop() aborts only a watch whose HTTP request has already
 * been answered (it stores the AbortController after `await watch.watch(...)`), so a
 * stop() while a watch is connecting leaves that watch running. This Watch remembers
 * the controller and aborts late arrivals once retired.
 */
class AbortableWatch extends Watch {
  #controller: AbortController | undefined;
  #retired = false;

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = await super.watch(path, queryParams, callback, done);
    this.#controller = controller;
    if (this.#retired) controller.abort();
    return controller;
  }

  retire(): void {
    this.#retired = true;
    this.#controller?.abort();
  }
}

/** Sets an AbortSignal on one generated-client request (the generated API has no timeout of its own). */
function signalOptions(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Peers from the EndpointSlices of a Service, through client-node's informer.
 *
 * - hasListed becomes true with the first delivery, which follows the first
 *   successful list at once (not debounced: readiness should not wait).
 * - Later changes are collected for debounceMs from the first change, then
 *   delivered once if the peer list differs (a window, not a sliding debounce:
 *   a long rolling update still delivers every debounceMs).
 * - On `error` (the informer then stops itself) the last peer list stays in force,
 *   and the informer is restarted after capped exponential backoff with full jitter.
 * - Every resyncMs (±10 % jitter) the informer is replaced by a fresh list+watch.
 */
export class KubernetesDiscovery implements Discovery {
  readonly #options: Required<Omit<KubernetesDiscoveryOptions, 'logger' | 'onError' | 'onRestart'>>;
  readonly #logger: Logger | undefined;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #onRestart: ((reason: RestartReason) => void) | undefined;
  readonly #api: DiscoveryV1Api;
  readonly #path: string;
  readonly #labelSelector: string;

  #listener: PeersListener | undefined;
  #started = false;
  #closed = false;
  #peers: readonly string[] = [];
  #hasListed = false;
  #attempt: Attempt | undefined;
  #failures = 0;
  #restartTimer: unknown;
  #debounceTimer: unknown;
  #resyncTimer: unknown;
  #selfListed: boolean | undefined;
  #portWarned = '';
  /** Slices already logged as foreign (not the controller's). */
  readonly #foreignWarned = new Set<string>();

  constructor(options: KubernetesDiscoveryOptions) {
    if (!(options.kubeConfig instanceof KubeConfig)) throw new TypeError('KubernetesDiscovery: option "kubeConfig" must be a KubeConfig');
    for (const key of ['namespace', 'service', 'self'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') throw new TypeError(`KubernetesDiscovery: option "${key}" must be a non-empty string`);
    }
    const resolved = {
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      service: options.service,
      self: trimPeerUrl(options.self),
      portName: options.portName ?? 'peer',
      debounceMs: options.debounceMs ?? 500,
      backoffInitialMs: options.backoffInitialMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      resyncMs: options.resyncMs ?? 300_000,
      listTimeoutMs: options.listTimeoutMs ?? 30_000,
      timers: options.timers ?? realTimers,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    for (const key of ['debounceMs', 'backoffInitialMs', 'backoffMaxMs', 'resyncMs', 'listTimeoutMs'] as const) {
      const value = resolved[key];
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`KubernetesDiscovery: option "${key}" must be a number >= 0, got ${value}`);
    }
    if (resolved.backoffInitialMs <= 0) throw new TypeError('KubernetesDiscovery: option "backoffInitialMs" must be > 0');
    if (resolved.backoffMaxMs < resolved.backoffInitialMs) {
      throw new TypeError('KubernetesDiscovery: option "backoffMaxMs" must be >= "backoffInitialMs"');
    }
    if (resolved.listTimeoutMs <= 0) throw new TypeError('KubernetesDiscovery: option "listTimeoutMs" must be > 0');
    this.#options = resolved;
    this.#logger = options.logger?.child({ component: 'discovery', service: resolved.service, namespace: resolved.namespace });
    this.#onError = options.onError;
    this.#onRestart = options.onRestart;
    this.#api = resolved.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.#path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(resolved.namespace)}/endpointslices`;
    this.#labelSelector = `kubernetes.io/service-name=${resolved.service}`;
  }

  get hasListed(): boolean {
    return this.#hasListed;
  }

  get peers(): readonly string[] {
    return this.#peers;
  }

  start(listener: PeersListener): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#listener = listener;
    this.#attempt = this.#newAttempt();
    this.#run(this.#attempt);
    this.#scheduleResync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { timers } = this.#options;
    timers.clearTimeout(this.#restartTimer);
    timers.clearTimeout(this.#debounceTimer);
    timers.clearTimeout(this.#resyncTimer);
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) await this.#retire(attempt);
  }

  // ---- informer lifecycle ----------------------------------------------------------------

  #newAttempt(): Attempt {
    const watch = new AbortableWatch(this.#options.kubeConfig);
    const abort = new AbortController();
    const { namespace, listTimeoutMs } = this.#options;
    // The informer calls this for the first list and again after every 410 Gone.
    const list = async (): Promise<V1EndpointSliceList> => {
      const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(listTimeoutMs)]);
      const result = await this.#api.listNamespacedEndpointSlice({ namespace, labelSelector: this.#labelSelector }, signalOptions(signal));
      // The informer applies the items after this promise resolves; look at them afterwards.
      setImmediate(() => this.#listed(attempt));
      return result;
    };
    const informer = new ListWatch<V1EndpointSlice>(this.#path, watch, list, false, this.#labelSelector);
    const attempt: Attempt = { informer, watch, abort, listed: false, failed: false, startedAt: 0, retired: false };
    const changed = (): void => {
      if (attempt !== this.#attempt || attempt.retired) return;
      // Events flow again: the watch is healthy.
      this.#failures = 0;
      if (attempt.listed) this.#scheduleRecompute();
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    informer.on('error', (err: unknown) => this.#failed(attempt, err));
    return attempt;
  }

  #run(attempt: Attempt): void {
    attempt.failed = false;
    attempt.startedAt = this.#options.now();
    // start() resolves once the watch is connected; errors before the watch's own
    // try block (kubeconfig, auth plugins) reject it instead of firing `error`.
    attempt.informer.start().catch((err: unknown) => this.#failed(attempt, err));
  }

  #listed(attempt: Attempt): void {
    if (attempt !== this.#attempt || attempt.retired || this.#closed) return;
    attempt.listed = true;
    this.#failures = 0;
    this.#logger?.debug({ resourceVersion: attempt.informer.latestResourceVersion(), slices: attempt.informer.list().length }, 'listed EndpointSlices');
    // The very first list is delivered at once; relists (410, resync) go through the debounce.
    if (!this.#hasListed) this.#recompute();
    else this.#scheduleRecompute();
  }

  #failed(attempt: Attempt, err: unknown): void {
    if (attempt !== this.#attempt || attempt.retired || attempt.failed || this.#closed) return;
    attempt.failed = true;
    const { backoffInitialMs, backoffMaxMs, random, now, timers } = this.#options;
    // A watch that ran for a while before failing starts the backoff afresh.
    if (now() - attempt.startedAt >= backoffMaxMs) this.#failures = 0;
    const ceiling = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(this.#failures, 30));
    const delayMs = Math.round(random() * ceiling);
    this.#failures++;
    this.#logger?.warn({ err, failures: this.#failures, retryInMs: delayMs, peers: this.#peers.length }, 'EndpointSlice watch failed; keeping the last peer list');
    try {
      this.#onError?.(err);
    } catch (hookErr) {
      this.#logger?.error({ err: hookErr }, 'onError hook threw');
    }
    timers.clearTimeout(this.#restartTimer);
    this.#restartTimer = timers.setTimeout(() => {
      this.#restartTimer = undefined;
      if (attempt !== this.#attempt || this.#closed) return;
      this.#restarting('error');
      this.#run(attempt);
    }, delayMs);
  }

  #scheduleResync(): void {
    const { resyncMs, random, timers } = this.#options;
    if (resyncMs <= 0 || this.#closed) return;
    const delayMs = Math.round(resyncMs * (0.9 + 0.2 * random()));
    this.#resyncTimer = timers.setTimeout(() => {
      this.#resyncTimer = undefined;
      if (this.#closed) return;
      const old = this.#attempt;
      // While an error restart is pending, that restart stands in for the resync.
      if (old && !old.failed) {
        this.#restarting('resync');
        const fresh = this.#newAttempt();
        this.#attempt = fresh;
        void this.#retire(old);
        this.#run(fresh);
      }
      this.#scheduleResync();
    }, delayMs);
  }

  #restarting(reason: RestartReason): void {
    this.#logger?.info({ reason }, 'restarting EndpointSlice watch');
    try {
      this.#onRestart?.(reason);
    } catch (err) {
      this.#logger?.error({ err }, 'onRestart hook threw');
    }
  }

  async #retire(attempt: Attempt): Promise<void> {
    attempt.retired = true;
    attempt.abort.abort();
    attempt.watch.retire();
    // stop() aborts the open watch, which makes the informer emit `error` (AbortError); retired attempts ignore it.
    await attempt.informer.stop();
  }

  // ---- peer list -------------------------------------------------------------------------

  #scheduleRecompute(): void {
    if (this.#debounceTimer !== undefined || this.#closed) return;
    this.#debounceTimer = this.#options.timers.setTimeout(() => {
      this.#debounceTimer = undefined;
      this.#recompute();
    }, this.#options.debounceMs);
  }

  #recompute(): void {
    const attempt = this.#attempt;
    // A fresh attempt's cache is empty until its list arrives; the old list stays in force.
    if (this.#closed || !attempt || !attempt.listed) return;
    const { self, portName } = this.#options;
    const result = peersFromSlices(attempt.informer.list(), { self, portName });
    if (result.selfListed !== this.#selfListed) {
      if (!result.selfListed) this.#logger?.info('self is not among the ready endpoints (yet); keeping self in the peer list');
      else if (this.#selfListed === false) this.#logger?.info('self is among the ready endpoints');
      this.#selfListed = result.selfListed;
    }
    const missingPort = result.slicesWithoutPort.join(',');
    if (missingPort !== '' && missingPort !== this.#portWarned) {
      this.#logger?.warn({ slices: result.slicesWithoutPort, portName }, 'EndpointSlices have no port with this name; their endpoints are ignored');
    }
    this.#portWarned = missingPort;
    // Once per slice, not per event: a forged slice stays until someone deletes it.
    for (const name of result.foreignSlices) {
      if (this.#foreignWarned.has(name)) continue;
      this.#foreignWarned.add(name);
      this.#logger?.warn({ slice: name }, 'EndpointSlice ignored: not managed by the EndpointSlice controller, or lists an endpoint that is not a Pod');
    }
    if (this.#hasListed && samePeers(result.peers, this.#peers)) return;
    this.#peers = Object.freeze(result.peers);
    this.#hasListed = true;
    // Debug only: the pool logs every membership change it applies at info.
    this.#logger?.debug({ peers: this.#peers }, 'peer list changed');
    try {
      this.#listener?.(this.#peers);
    } catch (err) {
      this.#logger?.error({ err }, 'peer listener threw');
    }
  }
}
