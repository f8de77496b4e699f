// protocol.ts is the peer wire format: groupcache's URL scheme and its protobuf GetResponse.
import protobuf from 'protobufjs/light.js';
import { pathSegment } from './path-segment.js';

export const DEFAULT_BASE_PATH = '/_geecache/';
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

/**
 * A geecache client's request header: "while you work on my request, show me you are alive every
 * N ms". A geecache owner then sends `102 Processing` on a GET, and heartbeat frames in a batch,
 * so the client tells an owner loading a slow key from one that is gone. Go groupcache peers
 * ignore the header and are sent nothing of the kind (Go's client allows only a few 1xx).
 */
export const HEARTBEAT_HEADER = 'geecache-heartbeat-ms';

/** The heartbeat interval a request asks for, within 10 ms to 60 s; undefined when it asks for none. */
export function heartbeatInterval(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Number(value);
  return Number.isInteger(ms) ? Math.min(60_000, Math.max(10, ms)) : undefined;
}

// groupcache.proto: message GetResponse { optional bytes value = 1; optional double minute_qps = 2; }
// groupcache-go v3 adds `optional int64 expire = 3`, Unix time in nanoseconds; golang/groupcache
// skips the unknown field, so every groupcache reader still takes the answer.
const GetResponseType = new protobuf.Type('GetResponse')
  .add(new protobuf.Field('value', 1, 'bytes'))
  .add(new protobuf.Field('minuteQps', 2, 'double'))
  .add(new protobuf.Field('expire', 3, 'int64'));
new protobuf.Root().define('groupcachepb').add(GetResponseType);

export interface GetResponse {
  value: Uint8Array;
  /** How often peers ask the owner for the key, per second over about a minute; undefined when it does not say (Go groupcache). */
  minuteQps: number | undefined;
  /** When the owner stops serving the value, in ms since the epoch; 0: it does not expire (or the owner did not say). */
  expiresAt: number;
}

/** An int64 as protobufjs reads and writes it: two 32-bit halves. */
interface Int64 {
  low: number;
  high: number;
}

// Nanoseconds since the epoch are past 2^53: they are computed as BigInt and travel as two halves.
const NANOS_PER_MS = 1_000_000n;

function nanosOf(ms: number): Int64 {
  const nanos = BigInt(Math.round(ms)) * NANOS_PER_MS;
  return { low: Number(BigInt.asIntN(32, nanos)), high: Number(BigInt.asIntN(32, nanos >> 32n)) };
}

function msOf(nanos: Int64): number {
  return Number(((BigInt(nanos.high) << 32n) | BigInt(nanos.low >>> 0)) / NANOS_PER_MS);
}

/** `expiresAt` in ms since the epoch, 0 for never: field 3 is then left out, as golang/groupcache sends. */
export function encodeGetResponse(value: Uint8Array, expiresAt = 0, minuteQps = 0): Uint8Array {
  return GetResponseType.encode(expiresAt > 0 ? { value, minuteQps, expire: nanosOf(expiresAt) } : { value, minuteQps }).finish();
}

/**
 * Decodes a GetResponse; throws on malformed bytes and on an answer without a value (field 1): an
 * owner always sends field 1, so a message without it (an empty body among them) is not an answer.
 */
export function decodeGetResponse(bytes: Uint8Array): GetResponse {
  const message = GetResponseType.decode(bytes) as unknown as { value?: unknown; minuteQps?: number; expire?: Int64 };
  // An absent field is not an own property: protobufjs reads it from the prototype's default.
  if (!Object.hasOwn(message, 'value') || !(message.value instanceof Uint8Array)) throw new TypeError('GetResponse has no value (field 1)');
  const expire = Object.hasOwn(message, 'expire') ? message.expire : undefined;
  // A negative expiry (Go's zero time.Time) means none, as 0 does.
  const expiresAt = expire && expire.high >= 0 ? msOf(expire) : 0;
  return { value: message.value, minuteQps: Object.hasOwn(message, 'minuteQps') ? message.minuteQps : undefined, expiresAt };
}

/** Why `basePath` cannot prefix peer paths, or undefined when it can: it starts and ends with '/', as '/_geecache/' does. */
export function basePathProblem(basePath: string): string | undefined {
  if (basePath === '/') return "must not be just '/'";
  if (!basePath.startsWith('/') || !basePath.endsWith('/')) return "must start and end with '/', e.g. /_geecache/";
  return undefined;
}

/** The request path for one key: <basePath><group>/<key>, both parts percent-encoded. */
export function peerPath(basePath: string, group: string, key: string): string {
  return basePath + pathSegment(group) + '/' + pathSegment(key);
}

export type ParsedPeerPath = { ok: true; group: string; key: string } | { ok: false; message: string };

/**
 * Splits a raw request URL (path and optional query) under `basePath` into group and key.
 * The key may contain encoded or plain '/': only the first '/' after the group separates them.
 * A '+' is a space: Go groupcache's client escapes both parts with url.QueryEscape (space as '+',
 * '+' as %2B), and our client sends %20 and %2B, so no client sends a '+' that means '+'.
 */
export function parsePeerPath(basePath: string, rawUrl: string): ParsedPeerPath {
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!path.startsWith(basePath)) return { ok: false, message: `path must start with ${basePath}` };
  const rest = path.slice(basePath.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) {
    return { ok: false, message: `expected ${basePath}<group>/<key>` };
  }
  try {
    return { ok: true, group: decodeQueryEscaped(rest.slice(0, slash)), key: decodeQueryEscaped(rest.slice(slash + 1)) };
  } catch {
    return { ok: false, message: 'malformed percent-encoding in path' };
  }
}

/** Undoes Go's url.QueryEscape (and encodeURIComponent): '+' is a space, then %XX escapes; throws on a bad escape. */
function decodeQueryEscaped(text: string): string {
  return decodeURIComponent(text.includes('+') ? text.replace(/\+/g, ' ') : text);
}
