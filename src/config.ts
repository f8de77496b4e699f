// config.ts turns environment variables and command-line flags into one validated Config.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { peerUrl, peerUrlProblem, trimPeerUrl } from './engine/peer-url.js';
import { basePathProblem, DEFAULT_BASE_PATH } from './protocol/get.js';

export type SourceConfig = { kind: 'demo' } | { kind: 'http'; origin: string };

export interface GroupConfig {
  name: string;
  cacheBytes: number;
  /** How long a loaded value is served, in ms; 0: until evicted. */
  ttlMs: number;
  /** How long past its expiry a value is still served while one refresh runs; 0: not at all. */
  staleWhileRevalidateMs: number;
  /** How long past its expiry a value stands in for a failed load; 0: not at all. */
  staleIfErrorMs: number;
  source: SourceConfig;
}

export interface Config {
  /** Peer protocol port. */
  port: number;
  /** API, metrics and health port. */
  httpPort: number;
  /** Address both listeners bind to. */
  bind: string;
  /** This process's peer base URL. */
  self: string;
  discovery: 'static' | 'kubernetes';
  /** Static peer list (self is always added). */
  peers: string[];
  /** Headless Service watched in kubernetes mode. */
  service: string | undefined;
  namespace: string | undefined;
  peerPortName: string;
  discoveryDebounceMs: number;
  groups: GroupConfig[];
  basePath: string;
  replicas: number;
  peerTimeoutMs: number;
  sourceTimeoutMs: number;
  demoLatencyMs: number;
  hotCache: boolean;
  /** Requests per second at the owner that make a fetched value hot; 0: groupcache's 1-in-10 coin. */
  hotCacheQps: number;
  /** Send the keys wanted from one owner in one event-loop turn as one batch (README: peer protocol). */
  peerBatch: boolean;
  /** After eviction stops, one full GC frees the emptied value slabs (idle-gc.ts); needs node --expose-gc. */
  idleGc: boolean;
  drainTimeoutMs: number;
  shutdownDelayMs: number;
  /** Warm handoff on membership changes: peeks at a key's previous holder, values handed over on leave. */
  handoff: boolean;
  /** How long after a membership change new owners peek (and leavers may hand values over). */
  handoffWindowMs: number;
  handoffPeekTimeoutMs: number;
  /** Budget of the handoff on leave: time, and value bytes. */
  handoffPushMs: number;
  handoffPushBytes: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty';
  kubeconfig: string | undefined;
  inCluster: boolean;
  /** Bearer token that DELETE /api must carry, from GEECACHE_ADMIN_TOKEN only (a flag would show in ps); unset: invalidation is off. */
  adminToken: string | undefined;
  /** Bearer token of handoffs between peers (GEECACHE_PEER_TOKEN, environment only); unset: membership alone is checked. */
  peerToken: string | undefined;
}

/** Every setting: its environment variable, the equal flag, and the default. */
const SETTINGS = {
  port: { env: 'GEECACHE_PORT', flag: 'port', default: '8001' },
  httpPort: { env: 'GEECACHE_HTTP_PORT', flag: 'http-port', default: '9999' },
  bind: { env: 'GEECACHE_BIND', flag: 'bind', default: '0.0.0.0' },
  self: { env: 'GEECACHE_SELF', flag: 'self', default: '' },
  discovery: { env: 'GEECACHE_DISCOVERY', flag: 'discovery', default: 'static' },
  peers: { env: 'GEECACHE_PEERS', flag: 'peers', default: '' },
  service: { env: 'GEECACHE_SERVICE', flag: 'service', default: '' },
  namespace: { env: 'POD_NAMESPACE', flag: 'namespace', default: '' },
  podIp: { env: 'POD_IP', flag: 'pod-ip', default: '' },
  peerPortName: { env: 'GEECACHE_PEER_PORT_NAME', flag: 'peer-port-name', default: 'peer' },
  discoveryDebounceMs: { env: 'GEECACHE_DISCOVERY_DEBOUNCE_MS', flag: 'discovery-debounce-ms', default: '500' },
  groups: { env: 'GEECACHE_GROUPS', flag: 'groups', default: 'scores:64MiB:demo' },
  basePath: { env: 'GEECACHE_BASE_PATH', flag: 'base-path', default: DEFAULT_BASE_PATH },
  replicas: { env: 'GEECACHE_REPLICAS', flag: 'replicas', default: '50' },
  peerTimeoutMs: { env: 'GEECACHE_PEER_TIMEOUT_MS', flag: 'peer-timeout-ms', default: '2000' },
  sourceTimeoutMs: { env: 'GEECACHE_SOURCE_TIMEOUT_MS', flag: 'source-timeout-ms', default: '5000' },
  demoLatencyMs: { env: 'GEECACHE_DEMO_LATENCY_MS', flag: 'demo-latency-ms', default: '50' },
  hotCache: { env: 'GEECACHE_HOT_CACHE', flag: 'hot-cache', default: 'on' },
  hotCacheQps: { env: 'GEECACHE_HOT_CACHE_QPS', flag: 'hot-cache-qps', default: '10' },
  peerBatch: { env: 'GEECACHE_PEER_BATCH', flag: 'peer-batch', default: 'on' },
  idleGc: { env: 'GEECACHE_IDLE_GC', flag: 'idle-gc', default: 'on' },
  drainTimeoutMs: { env: 'GEECACHE_DRAIN_TIMEOUT_MS', flag: 'drain-timeout-ms', default: '10000' },
  shutdownDelayMs: { env: 'GEECACHE_SHUTDOWN_DELAY_MS', flag: 'shutdown-delay-ms', default: '0' },
  handoff: { env: 'GEECACHE_HANDOFF', flag: 'handoff', default: 'on' },
  handoffWindowMs: { env: 'GEECACHE_HANDOFF_WINDOW_MS', flag: 'handoff-window-ms', default: '60000' },
  handoffPeekTimeoutMs: { env: 'GEECACHE_HANDOFF_PEEK_TIMEOUT_MS', flag: 'handoff-peek-timeout-ms', default: '50' },
  handoffPushMs: { env: 'GEECACHE_HANDOFF_PUSH_MS', flag: 'handoff-push-ms', default: '5000' },
  handoffPushBytes: { env: 'GEECACHE_HANDOFF_PUSH_BYTES', flag: 'handoff-push-bytes', default: '256MiB' },
  logLevel: { env: 'LOG_LEVEL', flag: 'log-level', default: 'info' },
  logFormat: { env: 'LOG_FORMAT', flag: 'log-format', default: 'json' },
} as const;

type SettingName = keyof typeof SETTINGS;

/** Tokens are read from the environment alone: a flag's value would show in ps. */
const ADMIN_TOKEN_ENV = 'GEECACHE_ADMIN_TOKEN';
const PEER_TOKEN_ENV = 'GEECACHE_PEER_TOKEN';
const MIN_TOKEN_LENGTH = 16;

function tokenOf(env: Record<string, string | undefined>, setting: string): string | undefined {
  const token = env[setting];
  if (token === undefined || token === '') return undefined;
  if (/\s/.test(token)) throw new ConfigError(setting, 'must not contain whitespace (it travels as Authorization: Bearer <token>)');
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(setting, `must be at least ${MIN_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 32`);
  }
  return token;
}

/** The usage text: every flag with its variable and default. */
export function usage(): string {
  const lines = Object.values(SETTINGS).map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(32)} default: ${s.default || '(none)'}`);
  return [
    'Usage: geecache [--flag value ...]   (each flag overrides its environment variable)',
    ...lines,
    `  ${'(environment only)'.padEnd(26)} ${ADMIN_TOKEN_ENV.padEnd(32)} default: (none: DELETE /api answers 403)`,
    `  ${'(environment only)'.padEnd(26)} ${PEER_TOKEN_ENV.padEnd(32)} default: (none: handoffs are checked by ring membership alone)`,
  ].join('\n');
}

/** Reads raw strings: a flag wins over its variable, which wins over the default. */
function readRaw(env: Record<string, string | undefined>, argv: readonly string[]): Record<SettingName, string> {
  const byFlag = new Map<string, SettingName>(Object.entries(SETTINGS).map(([name, s]) => [s.flag, name as SettingName]));
  const raw = Object.fromEntries(
    Object.entries(SETTINGS).map(([name, s]) => [name, env[s.env] ?? s.default]),
  ) as Record<SettingName, string>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(arg, 'unexpected argument (flags look like --port 8001)');
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    const name = byFlag.get(flag);
    if (!name) throw new ConfigError(`--${flag}`, 'unknown flag (see --help)');
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${flag}`, 'needs a value');
    raw[name] = value;
  }
  return raw;
}

const IEC: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, K: 1000, KB: 1000, M: 1000 ** 2, MB: 1000 ** 2, G: 1000 ** 3, GB: 1000 ** 3 };

/** Parses a byte size such as 64MiB, 1.5GiB, 500KB or 1048576. */
export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = IEC[match[2]!];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const groupName = /^[A-Za-z0-9_.-]+$/;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as 500ms, 30s, 5m, 1.5h or 7d into ms; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A group's freshness field: <ttl>[+stale-while-revalidate=<duration>][+stale-if-error=<duration>]. */
type Freshness = Pick<GroupConfig, 'ttlMs' | 'staleWhileRevalidateMs' | 'staleIfErrorMs'>;

const STALE_WINDOWS = { 'stale-while-revalidate': 'staleWhileRevalidateMs', 'stale-if-error': 'staleIfErrorMs' } as const;

function parseFreshness(text: string, group: string, setting: string): Freshness {
  const [ttlText, ...windows] = text.split('+');
  const ttlMs = parseDuration(ttlText!);
  if (ttlMs === undefined) throw new ConfigError(setting, `"${ttlText}" in group "${group}" is not a TTL such as 30s, 5m or 1h`);
  const freshness: Freshness = { ttlMs, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };
  for (const window of windows) {
    const [name, value] = window.split('=', 2) as [string, string | undefined];
    const field = STALE_WINDOWS[name as keyof typeof STALE_WINDOWS];
    const ms = value === undefined ? undefined : parseDuration(value);
    if (field === undefined || ms === undefined) {
      throw new ConfigError(setting, `"+${window}" in group "${group}" is not stale-while-revalidate=<duration> or stale-if-error=<duration>`);
    }
    freshness[field] = ms;
  }
  return freshness;
}

/**
 * Parses GEECACHE_GROUPS: comma-separated name:bytes[:freshness]:source. Freshness is a TTL (30s,
 * 5m; 0s for none) with optional stale windows, 30s+stale-while-revalidate=10s+stale-if-error=1h;
 * source is demo or an http(s) URL (which may contain colons).
 */
export function parseGroups(text: string, setting = SETTINGS.groups.env): GroupConfig[] {
  const groups: GroupConfig[] = [];
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError(setting, 'at least one group is required, e.g. scores:64MiB:demo');
  for (const entry of entries) {
    const first = entry.indexOf(':');
    const second = first === -1 ? -1 : entry.indexOf(':', first + 1);
    if (second === -1) throw new ConfigError(setting, `"${entry}" is not name:bytes:source`);
    const name = entry.slice(0, first);
    const bytesText = entry.slice(first + 1, second);
    let sourceText = entry.slice(second + 1);
    // An optional third field is the freshness: it starts with a duration, which no source ("demo", a URL) does.
    let freshness: Freshness = { ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };
    const third = sourceText.indexOf(':');
    if (third !== -1 && /^\d/.test(sourceText)) {
      freshness = parseFreshness(sourceText.slice(0, third), name, setting);
      sourceText = sourceText.slice(third + 1);
    }
    if (!groupName.test(name)) throw new ConfigError(setting, `group name "${name}" may use only letters, digits, '.', '_' and '-'`);
    if (groups.some((g) => g.name === name)) throw new ConfigError(setting, `group "${name}" is listed twice`);
    const cacheBytes = parseBytes(bytesText);
    if (cacheBytes === undefined) throw new ConfigError(setting, `"${bytesText}" in group "${name}" is not a byte size such as 64MiB`);
    groups.push({ name, cacheBytes, ...freshness, source: parseSource(sourceText, name, setting) });
  }
  return groups;
}

function parseSource(text: string, group: string, setting: string): SourceConfig {
  if (text === 'demo') return { kind: 'demo' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(setting, `source "${text}" of group "${group}" must be demo or an http(s):// URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(setting, `source "${text}" of group "${group}" must be demo or an http(s):// URL`);
  }
  return { kind: 'http', origin: text.replace(/\/+$/, '') };
}

const port = (setting: string) =>
  z.coerce.number({ error: `${setting}: must be a number` }).int(`${setting}: must be a whole number`).min(0, `${setting}: must be 0-65535`).max(65535, `${setting}: must be 0-65535`);
const millis = (setting: string, min = 0) =>
  z.coerce.number({ error: `${setting}: must be a number of milliseconds` }).int(`${setting}: must be a whole number of milliseconds`).min(min, `${setting}: must be at least ${min}`);
const oneOf = <T extends string>(setting: string, values: readonly [T, ...T[]]) =>
  z.enum(values, { error: `${setting}: must be one of ${values.join(', ')}` });

function handoffPushBytes(text: string): number {
  const bytes = parseBytes(text);
  if (bytes === undefined) throw new ConfigError(SETTINGS.handoffPushBytes.env, `"${text}" is not a byte size such as 256MiB`);
  return bytes;
}

/**
 * Builds the Config from an environment and argv (flags only, without node and script).
 * Throws ConfigError naming the variable or flag at fault.
 */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[] = []): Config {
  const raw = readRaw(env, argv);
  const schema = z.object({
    port: port(SETTINGS.port.env),
    httpPort: port(SETTINGS.httpPort.env),
    bind: z.string().min(1, `${SETTINGS.bind.env}: must not be empty`),
    discovery: oneOf(SETTINGS.discovery.env, ['static', 'kubernetes']),
    peerPortName: z.string().min(1, `${SETTINGS.peerPortName.env}: must not be empty`),
    discoveryDebounceMs: millis(SETTINGS.discoveryDebounceMs.env),
    basePath: z.string().superRefine((value, ctx) => {
      const problem = basePathProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${SETTINGS.basePath.env}: ${problem}` });
    }),
    replicas: z.coerce.number({ error: `${SETTINGS.replicas.env}: must be a number` }).int(`${SETTINGS.replicas.env}: must be a whole number`).min(1, `${SETTINGS.replicas.env}: must be at least 1`).max(10_000, `${SETTINGS.replicas.env}: must be at most 10000`),
    peerTimeoutMs: millis(SETTINGS.peerTimeoutMs.env, 1),
    sourceTimeoutMs: millis(SETTINGS.sourceTimeoutMs.env, 1),
    demoLatencyMs: millis(SETTINGS.demoLatencyMs.env),
    hotCache: oneOf(SETTINGS.hotCache.env, ['on', 'off']),
    hotCacheQps: z.coerce.number({ error: `${SETTINGS.hotCacheQps.env}: must be a number` }).min(0, `${SETTINGS.hotCacheQps.env}: must be 0 or more`),
    peerBatch: oneOf(SETTINGS.peerBatch.env, ['on', 'off']),
    idleGc: oneOf(SETTINGS.idleGc.env, ['on', 'off']),
    drainTimeoutMs: millis(SETTINGS.drainTimeoutMs.env),
    shutdownDelayMs: millis(SETTINGS.shutdownDelayMs.env),
    handoff: oneOf(SETTINGS.handoff.env, ['on', 'off']),
    handoffWindowMs: millis(SETTINGS.handoffWindowMs.env),
    handoffPeekTimeoutMs: millis(SETTINGS.handoffPeekTimeoutMs.env, 1),
    handoffPushMs: millis(SETTINGS.handoffPushMs.env),
    logLevel: oneOf(SETTINGS.logLevel.env, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    logFormat: oneOf(SETTINGS.logFormat.env, ['json', 'pretty']),
  });
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = SETTINGS[issue.path[0] as SettingName]?.env ?? String(issue.path[0]);
    const message = issue.message.startsWith(`${setting}: `) ? issue.message.slice(setting.length + 2) : issue.message;
    throw new ConfigError(setting, `${message} (got ${JSON.stringify(raw[issue.path[0] as SettingName])})`);
  }
  const values = parsed.data;

  const groups = parseGroups(raw.groups);
  const peers = raw.peers.split(',').map(trimPeerUrl).filter(Boolean);
  for (const peer of peers) checkPeerUrl(peer, SETTINGS.peers.env);

  let self = trimPeerUrl(raw.self);
  if (self === '' && values.discovery === 'kubernetes') {
    if (!raw.podIp) throw new ConfigError(SETTINGS.self.env, `set it, or set ${SETTINGS.podIp.env} (Downward API status.podIP) in kubernetes mode`);
    self = peerUrl(raw.podIp, values.port);
  }
  if (self === '') {
    const host = values.bind === '0.0.0.0' || values.bind === '::' ? '127.0.0.1' : values.bind;
    self = peerUrl(host, values.port);
  }
  checkPeerUrl(self, SETTINGS.self.env);

  const service = raw.service.trim() || undefined;
  if (values.discovery === 'kubernetes' && !service) {
    throw new ConfigError(SETTINGS.service.env, 'the headless Service to watch is required when GEECACHE_DISCOVERY=kubernetes');
  }
  if (values.port !== 0 && values.port === values.httpPort) {
    throw new ConfigError(SETTINGS.httpPort.env, `must differ from ${SETTINGS.port.env} (${values.port})`);
  }

  return {
    ...values,
    self,
    peers,
    service,
    namespace: raw.namespace.trim() || undefined,
    groups,
    hotCache: values.hotCache === 'on',
    peerBatch: values.peerBatch === 'on',
    idleGc: values.idleGc === 'on',
    kubeconfig: env.KUBECONFIG || undefined,
    inCluster: Boolean(env.KUBERNETES_SERVICE_HOST),
    adminToken: tokenOf(env, ADMIN_TOKEN_ENV),
    peerToken: tokenOf(env, PEER_TOKEN_ENV),
    handoff: values.handoff === 'on',
    handoffPushBytes: handoffPushBytes(raw.handoffPushBytes),
  };
}

function checkPeerUrl(url: string, setting: string): void {
  const problem = peerUrlProblem(url);
  if (problem !== undefined) throw new ConfigError(setting, `"${url}" ${problem}`);
}
