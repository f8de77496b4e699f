// responses.ts writes the answers every server of ours sends: a value with its length, or one line of text.
import type { ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import { httpStatusOf, LoadShedError } from '../errors.js';

/**
 * Writes a cached value with its length; the bytes go to the socket, never to user code. A small
 * cached value goes as latin1 text, which node:http sends in the header's write (byteview.ts).
 */
export function writeValue(res: ServerResponse, view: ByteView, contentType: string, headOnly: boolean): void {
  writeBytes(res, ByteView.textForWrite(view) ?? ByteView.bytesForWrite(view), contentType, headOnly);
}

/** `body` is bytes, or latin1 text (one character per byte). */
export function writeBytes(res: ServerResponse, body: Uint8Array | string, contentType: string, headOnly: boolean): void {
  const text = typeof body === 'string';
  // The flat array form skips building and walking a headers object.
  res.writeHead(200, ['content-type', contentType, 'content-length', String(text ? body.length : body.byteLength)]);
  if (headOnly) res.end();
  else if (text) res.end(body, 'latin1');
  else res.end(body);
}

/** Writes a short plain-text answer, the way every error leaves our servers. */
export function sendText(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = message + '\n';
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Answers an error with the status and one-line message httpStatusOf gives it. */
export function sendError(res: ServerResponse, err: unknown): void {
  const { status, message } = httpStatusOf(err);
  sendText(res, status, message, retryAfter(err));
}

/** Retry-After for a load that was shed (LoadShedError); no headers for any other error. */
export function retryAfter(err: unknown): Record<string, string> {
  return err instanceof LoadShedError ? { 'retry-after': String(err.retryAfterSeconds) } : {};
}
