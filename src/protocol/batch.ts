// batch-protocol.ts is the wire format of a batched peer request: many keys of one group in one POST, answered key by key as each is ready.
//
// Request:  POST <basePath><group>/  with content-type BATCH_CONTENT_TYPE and a body of keys,
//           each as [u32 LE byte length][UTF-8 bytes].
// Response: 200 with content-type BATCH_CONTENT_TYPE and a body of frames, one per key, in the
//           order they became ready: [u32 LE key index][u32 LE status][u32 LE length][bytes].
//           Status 200: the bytes are the value. Any other status is what a single GET of the
//           key would have answered (404, 502, ...), and the bytes are its message. While keys are
//           still loading, an owner asked for heartbeats (HEARTBEAT_HEADER) sends HEARTBEAT_FRAME:
//           index 0xFFFFFFFF, status 102, no bytes, which stands for no key.
//           A client that sends META_HEADER reads metadata: an owner that repeats the header in
//           its answer starts the bytes of every 200 frame with the value's expiry (float64 LE, ms
//           since the epoch, 0: never) and the key's rate of peer requests (float64 LE, per
//           second), then the value.
// A peer that does not know batches answers anything else (our older pods: 405; a Go
// groupcache peer treats it as a get of the empty key), and the client asks for each key alone.

import { isUtf8 } from 'node:buffer';

export const BATCH_CONTENT_TYPE = 'application/x-geecache-batch';
/** Most keys in one batch; a larger batch is refused (413). */
export const MAX_BATCH_KEYS = 512;
/** Largest request body of keys accepted. */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/** The request path of a batch for `group`: <basePath><group>/, the group percent-encoded. */
export function batchPath(basePath: string, group: string): string {
  return basePath + encodeURIComponent(group) + '/';
}

/** The group of a batch path, or undefined if `rawUrl` is not one. */
export function parseBatchPath(basePath: string, rawUrl: string): string | undefined {
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!path.startsWith(basePath) || !path.endsWith('/')) return undefined;
  const group = path.slice(basePath.length, -1);
  if (group === '' || group.includes('/')) return undefined;
  try {
    return decodeURIComponent(group);
  } catch {
    return undefined;
  }
}

export function encodeKeys(keys: readonly string[]): Buffer {
  const encoded = keys.map((key) => Buffer.from(key, 'utf8'));
  const out = Buffer.allocUnsafe(encoded.reduce((sum, bytes) => sum + 4 + bytes.byteLength, 0));
  let at = 0;
  for (const bytes of encoded) {
    at = out.writeUInt32LE(bytes.byteLength, at);
    at += bytes.copy(out, at);
  }
  return out;
}

/** The keys of a batch, or why the body is not one and the status that says so (413: too many keys, 400: malformed). */
export type DecodedKeys = { ok: true; keys: string[] } | { ok: false; status: 400 | 413; message: string };

export function decodeKeys(body: Buffer, maxKeys = MAX_BATCH_KEYS): DecodedKeys {
  const keys: string[] = [];
  let at = 0;
  while (at < body.byteLength) {
    if (keys.length === maxKeys) return { ok: false, status: 413, message: `more than ${maxKeys} keys in one batch` };
    if (at + 4 > body.byteLength) return { ok: false, status: 400, message: 'truncated key length' };
    const length = body.readUInt32LE(at);
    at += 4;
    if (at + length > body.byteLength) return { ok: false, status: 400, message: 'truncated key' };
    // As a GET's percent-decoding does: bytes that are not UTF-8 are refused, not replaced with U+FFFD.
    if (!isUtf8(body.subarray(at, at + length))) return { ok: false, status: 400, message: `key ${keys.length} is not UTF-8` };
    keys.push(body.toString('utf8', at, at + length));
    at += length;
  }
  return { ok: true, keys };
}

/** The index of a heartbeat frame: no batch has that many keys. */
export const HEARTBEAT_INDEX = 0xffffffff;

export function encodeFrame(index: number, status: number, bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + bytes.byteLength);
  out.writeUInt32LE(index, 0);
  out.writeUInt32LE(status, 4);
  out.writeUInt32LE(bytes.byteLength, 8);
  out.set(bytes, 12);
  return out;
}

/** The 12 bytes before a frame's bytes, for a writer that sends the bytes after it without copying them. */
export function encodeFrameHeader(index: number, status: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(12);
  out.writeUInt32LE(index, 0);
  out.writeUInt32LE(status, 4);
  out.writeUInt32LE(length, 8);
  return out;
}

/**
 * Most value bytes one batch answer carries (64 MiB): past it, the rest of its keys are answered
 * BATCH_ANSWER_FULL_STATUS, which the client takes as "ask elsewhere" (a local load), so one small
 * request cannot make an owner send (and hold) hundreds of MiB.
 */
export const MAX_BATCH_ANSWER_BYTES = 64 * 1024 * 1024;
/** The status of a key left out of a full answer: 507 Insufficient Storage. */
export const BATCH_ANSWER_FULL_STATUS = 507;

/** Request header: "put the value's metadata in value frames"; answer header: "it is there". Its value is META_FORMAT. */
export const META_HEADER = 'geecache-frame-meta';
export const META_FORMAT = 'expires-ms,qps';
const META_BYTES = 16;

/** What a value frame carries besides the value, for a client that reads it. */
export interface ValueMeta {
  /** ms since the epoch; 0: never. */
  expiresAt: number;
  /** The owner's rate of peer requests for the key, per second (GetResponse.minute_qps). */
  minuteQps: number;
}

/** A 200 frame for a client that reads metadata: [f64 LE expiresAt][f64 LE minuteQps][value]. */
export function encodeValueFrame(index: number, value: Uint8Array, meta: ValueMeta): Buffer {
  const header = encodeValueFrameHeader(index, value.byteLength, meta);
  const out = Buffer.allocUnsafe(header.byteLength + value.byteLength);
  out.set(header, 0);
  out.set(value, header.byteLength);
  return out;
}

/** encodeValueFrame's bytes before the value (frame header and metadata), for a writer that sends the value after it uncopied. */
export function encodeValueFrameHeader(index: number, valueLength: number, meta: ValueMeta): Buffer {
  const out = Buffer.allocUnsafe(12 + META_BYTES);
  out.writeUInt32LE(index, 0);
  out.writeUInt32LE(200, 4);
  out.writeUInt32LE(META_BYTES + valueLength, 8);
  out.writeDoubleLE(meta.expiresAt, 12);
  out.writeDoubleLE(meta.minuteQps, 20);
  return out;
}

/** The value and metadata of a 200 frame's bytes from an owner that sends metadata; undefined when they are too short. */
export function splitValueFrame(bytes: Buffer): ({ value: Buffer } & ValueMeta) | undefined {
  if (bytes.byteLength < META_BYTES) return undefined;
  const expiresAt = bytes.readDoubleLE(0);
  const minuteQps = bytes.readDoubleLE(8);
  return {
    value: bytes.subarray(META_BYTES),
    expiresAt: Number.isFinite(expiresAt) && expiresAt > 0 ? expiresAt : 0,
    minuteQps: Number.isFinite(minuteQps) && minuteQps > 0 ? minuteQps : 0,
  };
}

/** Sent while an owner still loads keys of the batch: the client's deadline starts again. */
export const HEARTBEAT_FRAME: Buffer = encodeFrame(HEARTBEAT_INDEX, 102, new Uint8Array(0));

export interface Frame {
  index: number;
  status: number;
  bytes: Buffer;
}

/**
 * Cuts a response body into frames as its chunks arrive, whatever the chunk boundaries. The chunks of
 * an incomplete frame are kept as they are and joined once, when the frame is complete: the work is
 * linear in the frame's size however many chunks it comes in.
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** 12 + the length of the frame being collected, once its header has arrived. */
  private needed = 0;

  /** The frames completed by `chunk`; their bytes may be views of it. */
  push(chunk: Buffer): Frame[] {
    if (this.partsBytes === 0) return this.cut(chunk);
    this.parts.push(chunk);
    this.partsBytes += chunk.byteLength;
    if (this.needed === 0 && this.partsBytes >= 12) this.needed = 12 + Buffer.concat(this.parts, 12).readUInt32LE(8);
    if (this.needed === 0 || this.partsBytes < this.needed) return [];
    const data = Buffer.concat(this.parts, this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
    this.needed = 0;
    return this.cut(data);
  }

  /** The whole frames at the start of `data`; the incomplete tail is kept. */
  private cut(data: Buffer): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (data.byteLength - at >= 12) {
      const length = data.readUInt32LE(at + 8);
      if (data.byteLength - at < 12 + length) break;
      frames.push({ index: data.readUInt32LE(at), status: data.readUInt32LE(at + 4), bytes: data.subarray(at + 12, at + 12 + length) });
      at += 12 + length;
    }
    if (at < data.byteLength) {
      // Copied, so a small tail does not pin the whole chunk.
      const tail = Buffer.from(data.subarray(at));
      this.parts = [tail];
      this.partsBytes = tail.byteLength;
      this.needed = tail.byteLength >= 12 ? 12 + tail.readUInt32LE(8) : 0;
    }
    return frames;
  }

  /** Bytes of an incomplete frame left over (non-zero at the end of a body means it was cut short). */
  get pendingBytes(): number {
    return this.partsBytes;
  }
}
