// config.ts turns environment variables and command-line flags into one validated Config.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { isWildcardAddress, peerUrl, peerUrlProblem, schemeOf, trimPeerUrl } from './engine/peer-url.js';
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

/** One setting: where it is read, its default as text, what the docs say, and how its text becomes a value. */
interface Setting<T> {
  env: string;
  /** The equal command-line flag; none for the environment only (a token's value would show in ps). */
  flag?: string;
  default: string;
  /** What --help and the docs show as the default when it is not the text above. */
  shownDefault?: string;
  /** One line of Markdown for docs/configuration.md. */
  meaning: string;
  value: z.ZodType<T>;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;

const port = () =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0-65535').max(65535, 'must be 0-65535');
const millis = (min = 0) =>
  z.coerce.number({ error: 'must be a number of milliseconds' }).int('must be a whole number of milliseconds').min(min, `must be at least ${min}`);
const oneOf = <const T extends string>(values: readonly [T, ...T[]]) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const onOff = () => oneOf(['on', 'off']).transform((value) => value === 'on');
const optionalText = () => z.string().transform((text) => text.trim() || undefined);

/**
 * A value read by a function that throws ConfigError: the error is carried through zod as it is,
 * message and all, and thrown again by loadConfig.
 */
const parsedBy = <T>(parse: (text: string) => T) =>
  z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, params: { configError: err } });
      return z.NEVER;
    }
  });

/** Tokens are at least this long: a bearer token anyone could guess is worse than none. */
const MIN_TOKEN_LENGTH = 16;

function tokenOf(setting: string): (text: string) => string | undefined {
  return (token) => {
    if (token === '') return undefined;
    if (/\s/.test(token)) throw new ConfigError(setting, 'must not contain whitespace (it travels as Authorization: Bearer <token>)');
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(setting, `must be at least ${MIN_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 32`);
    }
    return token;
  };
}

function byteSize(setting: string, example: string): (text: string) => number {
  return (text) => {
    const bytes = parseBytes(text);
    if (bytes === undefined) throw new ConfigError(setting, `"${text}" is not a byte size such as ${example}`);
    return bytes;
  };
}

function peerList(setting: string): (text: string) => string[] {
  return (text) => {
    const peers = text.split(',').map(trimPeerUrl).filter(Boolean);
    for (const peer of peers) checkPeerUrl(peer, setting);
    return peers;
  };
}

/**
 * Every setting, declared once: the Config type, the environment and flag reading, --help and
 * docs/configuration.md's table (`node scripts/settings-table.mjs`) all come from this table.
 * The order is the order of --help and the docs.
 */
export const SETTINGS = {
  port: setting({ env: 'GEECACHE_PORT', flag: 'port', default: '8001', meaning: 'peer port', value: port() }),
  httpPort: setting({ env: 'GEECACHE_HTTP_PORT', flag: 'http-port', default: '9999', meaning: 'API, metrics and health port', value: port() }),
  bind: setting({ env: 'GEECACHE_BIND', flag: 'bind', default: '0.0.0.0', meaning: 'address both listeners bind to', value: z.string().min(1, 'must not be empty') }),
  self: setting({
    env: 'GEECACHE_SELF',
    flag: 'self',
    default: '',
    shownDefault: '`http://$POD_IP:$GEECACHE_PORT` in kubernetes mode, else `http://127.0.0.1:$GEECACHE_PORT`; `https://` with `GEECACHE_PEER_TLS_DIR`',
    meaning: "this process's peer base URL, as the others see it",
    value: z.string().transform(trimPeerUrl),
  }),
  discovery: setting({
    env: 'GEECACHE_DISCOVERY',
    flag: 'discovery',
    default: 'static',
    meaning: '`static` (`GEECACHE_PEERS`) or `kubernetes` (EndpointSlices)',
    value: oneOf(['static', 'kubernetes']),
  }),
  peers: setting({
    env: 'GEECACHE_PEERS',
    flag: 'peers',
    default: '',
    shownDefault: '(self only)',
    meaning: 'comma-separated peer base URLs, e.g. `http://10.0.0.5:8001` (self is always added); all `https://` with `GEECACHE_PEER_TLS_DIR`, else all `http://`',
    value: parsedBy(peerList('GEECACHE_PEERS')),
  }),
  service: setting({
    env: 'GEECACHE_SERVICE',
    flag: 'service',
    default: '',
    meaning: 'headless Service whose EndpointSlices list the peers (kubernetes mode)',
    value: optionalText(),
  }),
  namespace: setting({
    env: 'POD_NAMESPACE',
    flag: 'namespace',
    default: '',
    shownDefault: "the service account's namespace, else the kubeconfig context's",
    meaning: "the Service's namespace, from the Downward API (kubernetes mode)",
    value: optionalText(),
  }),
  podIp: setting({
    env: 'POD_IP',
    flag: 'pod-ip',
    default: '',
    meaning: "this pod's IP, from the Downward API: the host of `GEECACHE_SELF` when that is unset (kubernetes mode)",
    value: z.string(),
  }),
  kubeconfig: setting({
    env: 'KUBECONFIG',
    default: '',
    shownDefault: 'in-cluster, else `~/.kube/config`',
    meaning: 'API server credentials in kubernetes mode',
    value: z.string().transform((text) => text || undefined),
  }),
  inCluster: setting({
    env: 'KUBERNETES_SERVICE_HOST',
    default: '',
    shownDefault: "(set by the kubelet in every pod)",
    meaning: "when set, kubernetes mode uses the pod's service account",
    value: z.string().transform(Boolean),
  }),
  peerPortName: setting({
    env: 'GEECACHE_PEER_PORT_NAME',
    flag: 'peer-port-name',
    default: 'peer',
    meaning: 'name of the Service port peers listen on',
    value: z.string().min(1, 'must not be empty'),
  }),
  discoveryDebounceMs: setting({
    env: 'GEECACHE_DISCOVERY_DEBOUNCE_MS',
    flag: 'discovery-debounce-ms',
    default: '500',
    meaning: 'membership changes are collected this long before one ring rebuild',
    value: millis(),
  }),
  groups: setting({
    env: 'GEECACHE_GROUPS',
    flag: 'groups',
    default: 'scores:64MiB:demo',
    meaning:
      'comma-separated `name:bytes[:freshness]:source`; bytes like `64MiB`, `1GiB`, `500KB`; freshness: see below; source `demo` or an `http(s)://` origin (`GET <origin>/<percent-encoded key>`: 200 value, 404 not found)',
    value: parsedBy((text) => parseGroups(text)),
  }),
  adminToken: setting({
    env: 'GEECACHE_ADMIN_TOKEN',
    default: '',
    shownDefault: '(none: DELETE /api answers 403)',
    meaning: `bearer token that \`DELETE /api\` must carry, at least ${MIN_TOKEN_LENGTH} characters; unset: invalidation is off (403)`,
    value: parsedBy(tokenOf('GEECACHE_ADMIN_TOKEN')),
  }),
  basePath: setting({
    env: 'GEECACHE_BASE_PATH',
    flag: 'base-path',
    default: DEFAULT_BASE_PATH,
    meaning: 'peer protocol path; `/_groupcache/` joins a Go groupcache ring',
    value: z.string().superRefine((value, ctx) => {
      const problem = basePathProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  }),
  replicas: setting({
    env: 'GEECACHE_REPLICAS',
    flag: 'replicas',
    default: '50',
    meaning: 'ring points per peer',
    value: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  }),
  peerTimeoutMs: setting({
    env: 'GEECACHE_PEER_TIMEOUT_MS',
    flag: 'peer-timeout-ms',
    default: '2000',
    meaning: 'how long a request to a peer may go without a sign of life (waiting for a connection included)',
    value: millis(1),
  }),
  sourceTimeoutMs: setting({
    env: 'GEECACHE_SOURCE_TIMEOUT_MS',
    flag: 'source-timeout-ms',
    default: '5000',
    meaning: 'deadline of one request to an HTTP origin',
    value: millis(1),
  }),
  originConcurrency: setting({
    env: 'GEECACHE_ORIGIN_CONCURRENCY',
    flag: 'origin-concurrency',
    default: '32',
    meaning: 'requests to one HTTP origin running at once at most (one connection each)',
    value: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  }),
  originQueue: setting({
    env: 'GEECACHE_ORIGIN_QUEUE',
    flag: 'origin-queue',
    default: '256',
    meaning: 'requests to one HTTP origin waiting for a turn at most; past it a miss is answered 503 with `Retry-After` at once',
    value: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(1_000_000, 'must be at most 1000000'),
  }),
  maxConnections: setting({
    env: 'GEECACHE_MAX_CONNECTIONS',
    flag: 'max-connections',
    default: '4096',
    meaning: 'open client connections each port (HTTP, peer) holds at most; past it new ones are closed at once',
    value: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1'),
  }),
  stallTimeoutMs: setting({
    env: 'GEECACHE_STALL_TIMEOUT_MS',
    flag: 'stall-timeout-ms',
    default: '30000',
    meaning: 'a connection with nothing read or written for this long is closed (a client that stopped reading its answer); longer than the source timeout',
    value: millis(1),
  }),
  demoLatencyMs: setting({ env: 'GEECACHE_DEMO_LATENCY_MS', flag: 'demo-latency-ms', default: '50', meaning: 'how slow the demo "database" is', value: millis() }),
  hotCache: setting({
    env: 'GEECACHE_HOT_CACHE',
    flag: 'hot-cache',
    default: 'on',
    meaning: 'keep values fetched from owners in a hot cache (`off`: never)',
    value: onOff(),
  }),
  hotCacheQps: setting({
    env: 'GEECACHE_HOT_CACHE_QPS',
    flag: 'hot-cache-qps',
    default: '10',
    meaning: 'requests per second at the owner that make a fetched value hot (0, or a Go owner: 1 in 10 at random, as groupcache)',
    value: z.coerce.number({ error: 'must be a number' }).min(0, 'must be 0 or more'),
  }),
  peerBatch: setting({
    env: 'GEECACHE_PEER_BATCH',
    flag: 'peer-batch',
    default: 'on',
    meaning: 'send the keys wanted from one owner in the same event-loop turn as one batch (`off`: one `GET` per key, as groupcache; [docs/protocol.md](protocol.md#batches))',
    value: onOff(),
  }),
  idleGc: setting({
    env: 'GEECACHE_IDLE_GC',
    flag: 'idle-gc',
    default: 'on',
    meaning:
      'ask V8 for a full GC once caching has left garbage (dropped store segments, the buffers values arrived in, old-space growth): past 1/16 of the budgets (1–16 MiB) once no value was cached for half a second (a collection that gives the freed pages back), past 1/4 (at least 8 MiB) while values keep coming; needs `node --expose-gc`, which the image, `npm start` and the bench pass',
    value: onOff(),
  }),
  handoff: setting({
    env: 'GEECACHE_HANDOFF',
    flag: 'handoff',
    default: 'on',
    meaning: "warm handoff: peeks at a key's previous holder after membership changes, and the cache handed over on SIGTERM (`off`: groupcache's behaviour)",
    value: onOff(),
  }),
  handoffWindowMs: setting({
    env: 'GEECACHE_HANDOFF_WINDOW_MS',
    flag: 'handoff-window-ms',
    default: '60000',
    meaning: 'how long after a membership change new owners peek and pods that left may hand values over',
    value: millis(),
  }),
  handoffPeekTimeoutMs: setting({
    env: 'GEECACHE_HANDOFF_PEEK_TIMEOUT_MS',
    flag: 'handoff-peek-timeout-ms',
    default: '50',
    meaning: 'how long a peek may take before the key is loaded instead',
    value: millis(1),
  }),
  handoffPushMs: setting({ env: 'GEECACHE_HANDOFF_PUSH_MS', flag: 'handoff-push-ms', default: '5000', meaning: 'time budget of the handoff on SIGTERM', value: millis() }),
  handoffPushBytes: setting({
    env: 'GEECACHE_HANDOFF_PUSH_BYTES',
    flag: 'handoff-push-bytes',
    default: '256MiB',
    meaning: 'value bytes budget of the handoff on SIGTERM',
    value: parsedBy(byteSize('GEECACHE_HANDOFF_PUSH_BYTES', '256MiB')),
  }),
  peerToken: setting({
    env: 'GEECACHE_PEER_TOKEN',
    default: '',
    shownDefault: '(none: a warning at start-up)',
    meaning: `bearer token the peer port asks of peeks, handoffs and invalidations (401 without, 403 wrong), at least ${MIN_TOKEN_LENGTH} characters; gets and batches never need it (Go groupcache peers cannot send one); unset: those are open to whoever reaches the peer port, and peer invalidations carry the admin token`,
    value: parsedBy(tokenOf('GEECACHE_PEER_TOKEN')),
  }),
  debugRing: setting({
    env: 'GEECACHE_DEBUG_RING',
    flag: 'debug-ring',
    default: 'http',
    meaning:
      "where `GET /debug/ring` (this pod's ring: peers, a key's owner, the handoff window) is served: `http` (the HTTP port, beside `/api`), `peer` (the peer port only, for whoever may reach the pods), or `off`",
    value: oneOf(['http', 'peer', 'off']),
  }),
  peerTlsDir: setting({
    env: 'GEECACHE_PEER_TLS_DIR',
    flag: 'peer-tls-dir',
    default: '',
    shownDefault: '(none: peers speak plain HTTP)',
    meaning:
      "mutual TLS between peers: a directory with `tls.crt`, `tls.key` and `ca.crt` (a Kubernetes TLS Secret, as cert-manager writes it). The peer port then serves HTTPS and takes only clients whose certificate the CA signed; peer URLs are `https://`, and a peer's certificate is checked against the CA alone, not its address (use a CA that issues only to the ring's pods). Changed files are read again within 2 s; new connections use them",
    value: optionalText(),
  }),
  drainTimeoutMs: setting({
    env: 'GEECACHE_DRAIN_TIMEOUT_MS',
    flag: 'drain-timeout-ms',
    default: '10000',
    meaning: 'how long in-flight requests may take to finish on shutdown',
    value: millis(),
  }),
  shutdownDelayMs: setting({
    env: 'GEECACHE_SHUTDOWN_DELAY_MS',
    flag: 'shutdown-delay-ms',
    default: '0',
    meaning: "how long to keep serving with readiness 503 before closing listeners (the chart's preStop sleep does this job in Kubernetes)",
    value: millis(),
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    meaning: "trace, debug (logs each key's owner), info, warn, error, fatal, silent",
    value: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  }),
  logFormat: setting({ env: 'LOG_FORMAT', flag: 'log-format', default: 'json', meaning: '`json` lines, or `pretty` (what `npm start` uses)', value: oneOf(['json', 'pretty']) }),
};

type SettingName = keyof typeof SETTINGS;
type Values = { [K in SettingName]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

/** The validated settings; POD_IP only serves to derive `self`. */
export type Config = Omit<Values, 'podIp'>;

const SCHEMA = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.value])) as { [K in SettingName]: z.ZodType<Values[K]> },
);

const shownDefault = (s: Setting<unknown>): string => s.shownDefault ?? (s.default || '(none)');

/** The usage text: every flag with its variable and default. */
export function usage(): string {
  const lines = Object.values(SETTINGS).map((s: Setting<unknown>) => {
    const flag = s.flag === undefined ? '(environment only)' : `--${s.flag}`;
    return `  ${flag.padEnd(26)} ${s.env.padEnd(32)} default: ${shownDefault(s).replaceAll('`', '')}`;
  });
  return ['Usage: geecache [--flag value ...]   (each flag overrides its environment variable)', ...lines].join('\n');
}

/** docs/configuration.md's table of settings, in Markdown. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS).map((s: Setting<unknown>) => {
    const flag = s.flag === undefined ? '— (environment only)' : `\`--${s.flag}\``;
    return `| \`${s.env}\` | ${flag} | ${shownDefault(s)} | ${s.meaning} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Reads raw strings: a flag wins over its variable, which wins over the default. */
function readRaw(env: Record<string, string | undefined>, argv: readonly string[]): Record<SettingName, string> {
  const entries = Object.entries(SETTINGS) as Array<[SettingName, Setting<unknown>]>;
  const byFlag = new Map<string, SettingName>(entries.flatMap(([name, s]) => (s.flag === undefined ? [] : [[s.flag, name] as const])));
  const raw = Object.fromEntries(entries.map(([name, s]) => [name, env[s.env] ?? s.default])) as Record<SettingName, string>;
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
export function parseGroups(text: string, setting = 'GEECACHE_GROUPS'): GroupConfig[] {
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

/**
 * Builds the Config from an environment and argv (flags only, without node and script).
 * Throws ConfigError naming the variable or flag at fault.
 */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[] = []): Config {
  const raw = readRaw(env, argv);
  const parsed = SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const carried = (issue as { params?: { configError?: unknown } }).params?.configError;
    if (carried instanceof ConfigError) throw carried;
    const name = issue.path[0] as SettingName;
    throw new ConfigError(SETTINGS[name]?.env ?? String(name), `${issue.message} (got ${JSON.stringify(raw[name])})`);
  }
  const { podIp, ...values } = parsed.data;

  const scheme = values.peerTlsDir ? 'https' : 'http';
  if (values.self === '' && values.discovery === 'kubernetes') {
    if (!podIp) throw new ConfigError(SETTINGS.self.env, `set it, or set ${SETTINGS.podIp.env} (Downward API status.podIP) in kubernetes mode`);
    values.self = peerUrl(podIp, values.port, scheme);
  }
  if (values.self === '') {
    const host = isWildcardAddress(values.bind) ? '127.0.0.1' : values.bind;
    values.self = peerUrl(host, values.port, scheme);
  }
  checkPeerUrl(values.self, SETTINGS.self.env);
  // The peer port speaks one scheme, and the ring hashes URL strings: every peer URL must say it.
  for (const [url, setting] of [[values.self, SETTINGS.self.env], ...values.peers.map((peer) => [peer, SETTINGS.peers.env])] as const) {
    if (schemeOf(url) !== scheme) {
      throw new ConfigError(setting, `"${url}" must be ${scheme}:// ${values.peerTlsDir ? `with ${SETTINGS.peerTlsDir.env} set` : `unless ${SETTINGS.peerTlsDir.env} is set`}`);
    }
  }

  if (values.discovery === 'kubernetes' && !values.service) {
    throw new ConfigError(SETTINGS.service.env, `the headless Service to watch is required when ${SETTINGS.discovery.env}=kubernetes`);
  }
  if (values.port !== 0 && values.port === values.httpPort) {
    throw new ConfigError(SETTINGS.httpPort.env, `must differ from ${SETTINGS.port.env} (${values.port})`);
  }
  return values;
}

function checkPeerUrl(url: string, setting: string): void {
  const problem = peerUrlProblem(url);
  if (problem !== undefined) throw new ConfigError(setting, `"${url}" ${problem}`);
}
