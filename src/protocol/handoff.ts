// handoff.ts is the wire format of warm handoff: peeks at a peer's cache, and values handed to a key's next owner.
//
// Peek:    GET <basePath>~peek/<group>/<key>: 200 with a GetResponse (value and expiry) when the
//          peer has the key cached, 204 when it has not. It never loads or forwards. A Go
//          groupcache peer takes "~peek" for a group it does not have and answers 404.
// Handoff: POST <basePath>~handoff/<group>/ with content-type HANDOFF_CONTENT_TYPE, header
//          HANDOFF_SENDER_HEADER (the sender's own peer URL) and, when the ring has a peer token,
//          Authorization: Bearer <token>. Body: entries of
//          [u32 LE key length][key UTF-8][f64 LE expiresAt, ms since the epoch, 0 = never]
//          [u32 LE value length][value]. Answer: 200 with the number of values stored, as text.
// "~" cannot start a geecache group name, so neither path can be a group's.

import { isUtf8 } from 'node:buffer';

export const PEEK_SEGMENT = '~peek/';
export const HANDOFF_SEGMENT = '~handoff/';
export const HANDOFF_CONTENT_TYPE = 'application/x-geecache-handoff';
/** The request header a handing peer names itself in: the receiver checks it against its ring. */
export const HANDOFF_SENDER_HEADER = 'geecache-peer';
/** Largest handoff body accepted; senders cut their batches well below it. */
export const MAX_HANDOFF_BODY_BYTES = 8 * 1024 * 1024;

export interface HandoffEntry {
  key: string;
  value: Uint8Array;
  expiresAt: number;
}

export function encodeHandoff(entries: readonly HandoffEntry[]): Buffer {
  const keys = entries.map((entry) => Buffer.from(entry.key, 'utf8'));
  const size = entries.reduce((sum, entry, i) => sum + 16 + keys[i]!.byteLength + entry.value.byteLength, 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  entries.forEach((entry, i) => {
    const key = keys[i]!;
    at = out.writeUInt32LE(key.byteLength, at);
    at += key.copy(out, at);
    at = out.writeDoubleLE(entry.expiresAt, at);
    at = out.writeUInt32LE(entry.value.byteLength, at);
    out.set(entry.value, at);
    at += entry.value.byteLength;
  });
  return out;
}

/** The entries of a handoff body (values are views of it), or why it is not one. */
export function decodeHandoff(body: Buffer): { ok: true; entries: HandoffEntry[] } | { ok: false; message: string } {
  const entries: HandoffEntry[] = [];
  let at = 0;
  while (at < body.byteLength) {
    if (at + 4 > body.byteLength) return { ok: false, message: 'truncated key length' };
    const keyLength = body.readUInt32LE(at);
    at += 4;
    if (at + keyLength + 12 > body.byteLength) return { ok: false, message: 'truncated entry' };
    const keyBytes = body.subarray(at, at + keyLength);
    if (!isUtf8(keyBytes)) return { ok: false, message: `key ${entries.length} is not UTF-8` };
    at += keyLength;
    const expiresAt = body.readDoubleLE(at);
    at += 8;
    const valueLength = body.readUInt32LE(at);
    at += 4;
    if (at + valueLength > body.byteLength) return { ok: false, message: 'truncated value' };
    entries.push({ key: keyBytes.toString('utf8'), value: body.subarray(at, at + valueLength), expiresAt: Number.isFinite(expiresAt) && expiresAt > 0 ? expiresAt : 0 });
    at += valueLength;
  }
  return { ok: true, entries };
}
