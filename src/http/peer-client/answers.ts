// answers.ts turns what a peer answered into a value, or into the error its status stands for.
import type { PeerValue } from '../../engine/peers.js';
import { NotFoundError, PeerRefusedError, PeerUnavailableError, SourceError } from '../../errors.js';
import { splitValueFrame } from '../../protocol/batch.js';
import { decodeGetResponse } from '../../protocol/get.js';
import { describeNetworkError } from '../fetch-bytes.js';

/** A single GET's value and expiry, or the error its status stands for. */
export function getAnswer(peer: string, status: number, body: Buffer): PeerValue {
  if (status !== 200) throw errorForStatus(peer, status, body);
  try {
    return decodeGetResponse(body);
  } catch (err) {
    throw new PeerUnavailableError(peer, `peer ${peer} sent a malformed GetResponse`, { cause: err, status });
  }
}

/** A batch frame's value and metadata (when the owner sends it), or the error its status stands for. */
export function frameAnswer(peer: string, status: number, bytes: Buffer, withMeta: boolean): PeerValue {
  if (status !== 200) throw errorForStatus(peer, status, bytes);
  if (!withMeta) return { value: bytes, expiresAt: 0 };
  const split = splitValueFrame(bytes);
  if (!split) throw new PeerUnavailableError(peer, `peer ${peer} sent a value frame too short for its metadata`);
  return split;
}

/** The error an answer's status (not 200) stands for; `body` is the owner's one-line reason. */
export function errorForStatus(peer: string, status: number, body: Buffer): Error {
  const message = body.toString('utf8').trim() || `status ${status}`;
  // 404 and 502/504 are the owner's verdict on the key, and any other 4xx its verdict on our request;
  // the rest (500, 503 while draining, a Go peer's generic 500) means the owner could not answer, so
  // the caller may load locally.
  if (status === 404) return new NotFoundError(message);
  if (status === 502 || status === 504) return new SourceError(message, { status });
  if (status >= 400 && status < 500) return new PeerRefusedError(peer, status, `peer ${peer} refused the request (${status}): ${message}`);
  return new PeerUnavailableError(peer, `peer ${peer} answered ${status}: ${message}`, { status });
}

/** A request that got no answer (refused, reset, timed out, closed client), as the caller's signal to fall back. */
export function unavailable(peer: string, err: unknown, timeoutMs: number): PeerUnavailableError {
  return new PeerUnavailableError(peer, `peer ${peer} unavailable: ${describeNetworkError(err, timeoutMs)}`, { cause: err });
}
