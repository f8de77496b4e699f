// read-body.ts reads a body up to a size limit: the one implementation for the requests our servers
// take (batches, handoffs) and the responses our clients read (peers, the origin).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError } from '../errors.js';
import { sendText } from './responses.js';

/** Counts a body's chunks against `maxBytes` and keeps those it is asked to. */
export class BodyCollector {
  /** Bytes seen so far, kept or not. */
  size = 0;
  private readonly chunks: Buffer[] = [];

  /** `what` names the body in the error for one past the limit ("response", "batch body"). */
  constructor(
    readonly maxBytes: number,
    private readonly what: string,
  ) {}

  /** Counts `chunk` without keeping it (a body read as it streams); false once the body is past the limit. */
  count(chunk: Uint8Array): boolean {
    this.size += chunk.byteLength;
    return this.size <= this.maxBytes;
  }

  /** Counts and keeps `chunk`; false, and the chunk dropped, once the body is past the limit. */
  push(chunk: Buffer): boolean {
    if (!this.count(chunk)) return false;
    this.chunks.push(chunk);
    return true;
  }

  /** The kept chunks as one buffer (the only chunk itself when there is one). */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  tooLarge(): BodyTooLargeError {
    return new BodyTooLargeError(this.what, this.maxBytes);
  }
}

/**
 * Calls `done` with a request's whole body. A body past `maxBytes` is answered 413 (`what` names it)
 * and its connection closed once the answer is out, so the rest of it is never read.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, what: string, done: (body: Buffer) => void): void {
  const body = new BodyCollector(maxBytes, what);
  req.on('data', (chunk: Buffer) => {
    if (body.push(chunk)) return;
    req.removeAllListeners('data');
    sendText(res, 413, body.tooLarge().message, { connection: 'close' });
    res.on('finish', () => req.destroy());
  });
  req.on('end', () => {
    if (res.headersSent) return;
    done(body.bytes());
  });
}
