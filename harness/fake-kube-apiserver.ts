// fake-kube-apiserver.ts is an in-process Kubernetes API server for discovery.k8s.io/v1 EndpointSlices (tests only).
//
// It speaks the documented wire protocol (https://kubernetes.io/docs/reference/using-api/api-concepts/):
// list → EndpointSliceList with metadata.resourceVersion; ?watch=true → newline-delimited
// JSON events ADDED/MODIFIED/DELETED/BOOKMARK after the given resourceVersion; a watch from
// a compacted resourceVersion → one ERROR event carrying a 410 Expired Status, then the
// stream ends; errors are Status objects. One global, monotonically increasing resourceVersion.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';

const GROUP_VERSION = 'discovery.k8s.io/v1';
const NAMESPACED_PATH = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices\/?$/;
const CLUSTER_PATH = /^\/apis\/discovery\.k8s\.io\/v1\/endpointslices\/?$/;

/** A slice as tests write it: metadata.name is required, the server fills the rest of metadata. */
export type SliceInput = Omit<V1EndpointSlice, 'metadata'> & {
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
};

type Stored = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; namespace: string } };

interface HistoryEvent {
  rv: number;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Stored;
  previous: Stored | undefined;
}

interface Watcher {
  namespace: string | undefined;
  selector: LabelRequirement[];
  bookmarks: boolean;
  res: ServerResponse;
  socket: Socket;
  stalled: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  kind: 'list' | 'watch' | 'other';
  status: number;
}

export interface FakeKubeApiServerOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /** Send BOOKMARK events this often to watches that asked for them; 0 (default) = only on bookmark(). */
  bookmarkIntervalMs?: number;
}

export class FakeKubeApiServer {
  readonly host: string;
  #port: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #objects = new Map<string, Map<string, Stored>>();
  readonly #history: HistoryEvent[] = [];
  /** Every event with rv > #historyStart is in #history. */
  #historyStart = 0;
  #rv = 0;
  #uid = 0;
  readonly #watchers = new Set<Watcher>();
  #forbidden = false;
  #failStatus: number | undefined;
  #watchDelayMs = 0;
  #listDelayMs = 0;
  readonly #bookmarkIntervalMs: number;
  #bookmarkTimer: NodeJS.Timeout | undefined;
  /** Counters tests assert on. */
  readonly counts = { lists: 0, watches: 0, forbidden: 0, expired: 0 };
  readonly requests: RequestRecord[] = [];

  private constructor(options: FakeKubeApiServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 0;
  }

  /** Starts a server and resolves once it listens. */
  static async start(options: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    const server = new FakeKubeApiServer(options);
    await server.#listen();
    return server;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.host}:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** The current global resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  /** Open watches on one namespace (cluster-wide watches not counted). */
  openWatchesIn(namespace: string): number {
    return [...this.#watchers].filter((w) => w.namespace === namespace).length;
  }

  // ---- test controls ------------------------------------------------------------------

  /** Creates or replaces a slice; returns the stored object (with namespace and resourceVersion). */
  applySlice(namespace: string, slice: SliceInput): Stored {
    const objects = this.#namespace(namespace);
    const name = slice.metadata.name;
    const previous = objects.get(name);
    const rv = ++this.#rv;
    const object = structuredClone(slice) as unknown as Stored;
    object.kind = 'EndpointSlice';
    object.apiVersion = GROUP_VERSION;
    object.metadata = {
      ...object.metadata,
      name,
      namespace,
      uid: (previous?.metadata.uid as string | undefined) ?? `00000000-0000-4000-8000-${String(++this.#uid).padStart(12, '0')}`,
      resourceVersion: String(rv),
      generation: ((previous?.metadata.generation as number | undefined) ?? 0) + 1,
      creationTimestamp: (previous?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    objects.set(name, object);
    this.#record({ rv, namespace, type: previous ? 'MODIFIED' : 'ADDED', object, previous });
    return object;
  }

  /** Deletes a slice; false when it did not exist. */
  deleteSlice(namespace: string, name: string): boolean {
    const objects = this.#objects.get(namespace);
    const previous = objects?.get(name);
    if (!objects || !previous) return false;
    objects.delete(name);
    const rv = ++this.#rv;
    const object = structuredClone(previous);
    object.metadata.resourceVersion = String(rv);
    this.#record({ rv, namespace, type: 'DELETED', object, previous });
    return true;
  }

  /** Current slices of a namespace (copies). */
  slices(namespace: string): Stored[] {
    return [...(this.#objects.get(namespace)?.values() ?? [])].map((o) => structuredClone(o));
  }

  /** Forgets all history: a watch from any earlier resourceVersion now gets 410 Expired. */
  compact(): void {
    this.#history.length = 0;
    this.#historyStart = this.#rv;
  }

  /** Destroys open watch sockets mid-stream (a network failure, not a clean end); all, or one namespace's. */
  dropWatches(namespace?: string): void {
    for (const w of this.#watchersIn(namespace)) {
      this.#removeWatcher(w);
      w.socket.destroy();
    }
  }

  /** Ends open watches cleanly, as the server does when a watch's timeout expires; all, or one namespace's. */
  endWatches(namespace?: string): void {
    for (const w of this.#watchersIn(namespace)) {
      this.#removeWatcher(w);
      w.res.end();
    }
  }

  /** Stops writing to open watches but keeps their sockets open: a half-open connection; all, or one namespace's. */
  stallWatches(namespace?: string): void {
    for (const w of this.#watchersIn(namespace)) w.stalled = true;
  }

  #watchersIn(namespace: string | undefined): Watcher[] {
    return [...this.#watchers].filter((w) => namespace === undefined || w.namespace === namespace);
  }

  /** Sends a BOOKMARK at the current resourceVersion to watches that allowed bookmarks. */
  bookmark(): void {
    for (const w of this.#watchers) {
      if (w.bookmarks) this.#write(w, 'BOOKMARK', { kind: 'EndpointSlice', apiVersion: GROUP_VERSION, metadata: { resourceVersion: String(this.#rv) } });
    }
  }

  /** While on, every request is answered 403 Forbidden (open watches stay open, as with real RBAC changes). */
  forbid(on: boolean): void {
    this.#forbidden = on;
  }

  /** While set, every request is answered with this status (e.g. 500, 503); undefined clears it. */
  failWith(status: number | undefined): void {
    this.#failStatus = status;
  }

  /** Delays the response headers of new watch requests (to race client stop() against a connecting watch). */
  delayWatches(ms: number): void {
    this.#watchDelayMs = ms;
  }

  /** Delays list responses (a hung API server, for client-side list timeouts). */
  delayLists(ms: number): void {
    this.#listDelayMs = ms;
  }

  /** The API server goes away: closes the listener and every connection. State is kept. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    if (this.#bookmarkTimer) clearInterval(this.#bookmarkTimer);
    this.#bookmarkTimer = undefined;
    for (const w of [...this.#watchers]) this.#removeWatcher(w);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    server.closeAllConnections();
    await closed;
  }

  /** Comes back on the same port with the same objects (history kept unless compacted). */
  async restart(): Promise<void> {
    if (this.#server) return;
    await this.#listen();
  }

  /** Final shutdown; idempotent. */
  async close(): Promise<void> {
    await this.stop();
  }

  // ---- HTTP ---------------------------------------------------------------------------

  async #listen(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.#port = address.port;
    this.#server = server;
    if (this.#bookmarkIntervalMs > 0) {
      this.#bookmarkTimer = setInterval(() => this.bookmark(), this.#bookmarkIntervalMs);
      this.#bookmarkTimer.unref();
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const namespaced = NAMESPACED_PATH.exec(url.pathname);
    const matched = namespaced !== null || CLUSTER_PATH.test(url.pathname);
    const isWatch = query.watch === 'true' || query.watch === '1';
    const kind: RequestRecord['kind'] = !matched ? 'other' : isWatch ? 'watch' : 'list';
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, kind, status: 200 };
    this.requests.push(record);
    if (kind === 'list') this.counts.lists++;
    if (kind === 'watch') this.counts.watches++;

    const fail = (status: number, reason: string, message: string): void => {
      record.status = status;
      sendStatus(res, status, reason, message);
    };
    if (!matched) return fail(404, 'NotFound', 'the server could not find the requested resource');
    if (req.method !== 'GET') return fail(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (this.#forbidden) {
      this.counts.forbidden++;
      const verb = isWatch ? 'watch' : 'list';
      const scope = namespaced ? ` in the namespace "${decodeURIComponent(namespaced[1] ?? '')}"` : ' at the cluster scope';
      return fail(
        403,
        'Forbidden',
        `endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:test:geecache" cannot ${verb} resource "endpointslices" in API group "discovery.k8s.io"${scope}`,
      );
    }
    if (this.#failStatus !== undefined) return fail(this.#failStatus, 'InternalError', 'injected failure');

    let selector: LabelRequirement[];
    try {
      selector = parseLabelSelector(query.labelSelector ?? '');
    } catch (err) {
      return fail(400, 'BadRequest', `unable to parse requirement: ${(err as Error).message}`);
    }
    const namespace = namespaced ? decodeURIComponent(namespaced[1] ?? '') : undefined;
    if (isWatch) return this.#watch(req, res, record, namespace, selector, query);
    if (this.#listDelayMs > 0) {
      setTimeout(() => {
        if (!res.destroyed) this.#list(res, record, namespace, selector, query);
      }, this.#listDelayMs);
      return;
    }
    return this.#list(res, record, namespace, selector, query);
  }

  #list(res: ServerResponse, record: RequestRecord, namespace: string | undefined, selector: LabelRequirement[], query: Record<string, string>): void {
    const rv = query.resourceVersion;
    // An exact-version list can only be served from retained history; ours keeps none of the old states.
    if (rv !== undefined && rv !== '' && rv !== '0' && query.resourceVersionMatch === 'Exact' && Number(rv) !== this.#rv) {
      this.counts.expired++;
      record.status = 410;
      return sendStatus(res, 410, 'Expired', `too old resource version: ${rv} (${this.#historyStart + 1})`);
    }
    const items = this.#current(namespace)
      .filter((o) => matchesLabels(selector, o))
      .map((o) => {
        // Items of a typed list carry no kind/apiVersion, as the real server returns them.
        const { kind: _kind, apiVersion: _apiVersion, ...rest } = structuredClone(o);
        return rest;
      });
    sendJson(res, 200, { kind: 'EndpointSliceList', apiVersion: GROUP_VERSION, metadata: { resourceVersion: String(this.#rv) }, items });
  }

  #watch(
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    namespace: string | undefined,
    selector: LabelRequirement[],
    query: Record<string, string>,
  ): void {
    const begin = (): void => {
      if (res.destroyed || !this.#server) return;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
      const watcher: Watcher = {
        namespace,
        selector,
        bookmarks: query.allowWatchBookmarks === 'true',
        res,
        socket: req.socket,
        stalled: false,
        timer: undefined,
      };
      const rvParam = query.resourceVersion ?? '';
      if (rvParam === '' || rvParam === '0') {
        // "Start at most recent" / "any": synthetic ADDED events for the current state first.
        for (const o of this.#current(namespace)) if (matchesLabels(selector, o)) this.#write(watcher, 'ADDED', o);
      } else {
        const from = Number(rvParam);
        if (!Number.isInteger(from) || from < 0) {
          record.status = 400;
          this.#write(watcher, 'ERROR', statusObject(400, 'BadRequest', `invalid resource version: ${rvParam}`));
          res.end();
          return;
        }
        if (from < this.#historyStart) {
          this.counts.expired++;
          record.status = 410;
          this.#write(watcher, 'ERROR', statusObject(410, 'Expired', `too old resource version: ${from} (${this.#historyStart + 1})`));
          res.end();
          return;
        }
        for (const event of this.#history) if (event.rv > from) this.#dispatch(watcher, event);
      }
      this.#watchers.add(watcher);
      res.on('close', () => this.#removeWatcher(watcher));
      const timeoutSeconds = Number(query.timeoutSeconds ?? '0');
      if (timeoutSeconds > 0) {
        watcher.timer = setTimeout(() => {
          this.#removeWatcher(watcher);
          res.end();
        }, timeoutSeconds * 1000);
      }
    };
    if (this.#watchDelayMs > 0) setTimeout(begin, this.#watchDelayMs);
    else begin();
  }

  #removeWatcher(w: Watcher): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
    this.#watchers.delete(w);
  }

  #record(event: HistoryEvent): void {
    this.#history.push(event);
    for (const w of this.#watchers) this.#dispatch(w, event);
  }

  /** Sends one stored event to a watcher, translating label-selector transitions as the server does. */
  #dispatch(w: Watcher, event: HistoryEvent): void {
    if (w.namespace !== undefined && w.namespace !== event.namespace) return;
    const now = matchesLabels(w.selector, event.object);
    const before = event.previous !== undefined && matchesLabels(w.selector, event.previous);
    if (event.type === 'DELETED') {
      if (before) this.#write(w, 'DELETED', event.object);
    } else if (now && before) {
      this.#write(w, 'MODIFIED', event.object);
    } else if (now) {
      this.#write(w, 'ADDED', event.object);
    } else if (before) {
      // Left the selection: the client sees a deletion of the object at this resourceVersion.
      const gone = structuredClone(event.previous as Stored);
      gone.metadata.resourceVersion = String(event.rv);
      this.#write(w, 'DELETED', gone);
    }
  }

  #write(w: Watcher, type: string, object: unknown): void {
    if (w.stalled || w.res.destroyed || w.res.writableEnded) return;
    w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  #namespace(namespace: string): Map<string, Stored> {
    let objects = this.#objects.get(namespace);
    if (!objects) {
      objects = new Map();
      this.#objects.set(namespace, objects);
    }
    return objects;
  }

  #current(namespace: string | undefined): Stored[] {
    if (namespace !== undefined) return [...(this.#objects.get(namespace)?.values() ?? [])];
    return [...this.#objects.values()].flatMap((m) => [...m.values()]);
  }
}

// ---- label selectors (equality- and set-based, as `kubectl -l` accepts) ----------------

interface LabelRequirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s!=]*)$/.exec(part))) {
      const [, key = '', op, value = ''] = m;
      requirements.push({ key, op: op === '!=' ? 'notin' : 'in', values: [value] });
    } else if ((m = /^([^\s!=(]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      const [, key = '', op, list = ''] = m;
      requirements.push({ key, op: op === 'in' ? 'in' : 'notin', values: list.split(',').map((v) => v.trim()) });
    } else if ((m = /^!\s*([^\s!=(]+)$/.exec(part))) {
      requirements.push({ key: m[1] ?? '', op: '!exists', values: [] });
    } else if ((m = /^([^\s!=(]+)$/.exec(part))) {
      requirements.push({ key: m[1] ?? '', op: 'exists', values: [] });
    } else {
      throw new Error(`invalid label selector requirement "${part}"`);
    }
  }
  return requirements;
}

function matchesLabels(requirements: LabelRequirement[], object: Stored): boolean {
  const labels = (object.metadata.labels ?? {}) as Record<string, string>;
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(value ?? '');
      case 'notin':
        return !has || !r.values.includes(value ?? '');
    }
    return false;
  });
}

// ---- Status objects -----------------------------------------------------------------------

function statusObject(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, statusObject(code, reason, message));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// ---- slices and kubeconfigs for tests ---------------------------------------------------

export interface TestEndpoint {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  /** Pod name for targetRef; default derived from the ip. */
  pod?: string;
}

/** An EndpointSlice as the EndpointSlice controller writes it for `service`. */
export function endpointSlice(options: {
  name: string;
  service: string;
  endpoints: TestEndpoint[];
  port?: number;
  portName?: string;
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  extraPorts?: Array<{ name: string; port: number }>;
}): SliceInput {
  const addressType = options.addressType ?? (options.endpoints.some((e) => e.ip.includes(':')) ? 'IPv6' : 'IPv4');
  return {
    metadata: {
      name: options.name,
      labels: { 'kubernetes.io/service-name': options.service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType,
    ports: [{ name: options.portName ?? 'peer', port: options.port ?? 8001, protocol: 'TCP' }, ...(options.extraPorts ?? []).map((p) => ({ ...p, protocol: 'TCP' }))],
    endpoints: options.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      targetRef: { kind: 'Pod', namespace: 'default', name: e.pod ?? `pod-${e.ip.replace(/[.:]/g, '-')}` },
    })),
  };
}

/**
 * A KubeConfig for the fake server. client-node refuses plain http unless the cluster
 * sets skipTLSVerify ("HTTP protocol is not allowed when skipTLSVerify is not set or false").
 */
export function kubeConfigFor(server: { url: string }, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'fake-user' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace }],
    currentContext: 'fake',
  });
  return kc;
}

/** The same kubeconfig as a YAML file for child processes (KUBECONFIG=path). */
export function writeKubeConfigFile(server: { url: string }, path: string, namespace = 'default'): string {
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server.url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: fake-user',
    '  user: {}',
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake-user',
    `    namespace: ${namespace}`,
    'current-context: fake',
    '',
  ].join('\n');
  writeFileSync(path, yaml, { mode: 0o600 });
  return path;
}
