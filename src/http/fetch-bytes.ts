// fetch-bytes.ts makes one request through an undici dispatcher, collects the status and whole body, and names its failures in one line.
import { errors as undiciErrors, type Dispatcher } from 'undici';
import { DeadlineError } from '../errors.js';
import { BodyCollector } from './read-body.js';

export interface FetchedBytes {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What to send; a GET of `path` without headers when only a path is given. */
export interface BytesRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: string[];
  body?: Uint8Array;
}

/** What ends a request early besides undici's own timeouts. */
export interface FetchLimits {
  /** Abandons the request as soon as it aborts. */
  signal?: AbortSignal;
  /** The whole exchange, queueing for a connection included, must be done within this; else DeadlineError. */
  deadlineMs?: number;
}

/**
 * Sends `request` with undici's low-level dispatch API: no body stream, async iterator
 * or response object per request, which the peer hop pays for on every miss
 * (bench/: peer-hop case). Rejects with undici's error (refused, reset, timeouts),
 * BodyTooLargeError past `maxBytes`, DeadlineError past `deadlineMs`, or the signal's
 * reason as soon as it aborts, whether or not the request reached a connection yet.
 * The deadline is a timer cleared on completion rather than AbortSignal.timeout, whose
 * signal and timer live on for the whole deadline: at thousands of misses a second they
 * were promoted to the old space and grew it by tens of MiB between collections.
 */
export function fetchBytes(dispatcher: Dispatcher, request: string | BytesRequest, maxBytes: number, limits: FetchLimits = {}): Promise<FetchedBytes> {
  const { signal, deadlineMs } = limits;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let status = 0;
    let headers: FetchedBytes['headers'] = {};
    const body = new BodyCollector(maxBytes, 'response');
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(deadline);
      return true;
    };
    // Why the signal or the deadline ended the request, which may not have reached a connection yet.
    let cutShortBy: Error | undefined;
    const cutShort = (reason: Error) => {
      cutShortBy = reason;
      if (settle()) reject(reason);
      controller?.abort(reason);
    };
    // The signal is watched from the start: a request still waiting for a connection fails at once.
    const onAbort = () => cutShort(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadlineMs !== undefined) deadline = setTimeout(() => cutShort(new DeadlineError(deadlineMs)), deadlineMs);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (cutShortBy) started.abort(cutShortBy);
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(started, chunk) {
        if (!body.push(chunk)) started.abort(body.tooLarge());
      },
      onResponseEnd() {
        if (settle()) resolve({ status, headers, body: body.bytes() });
      },
      onResponseError(_controller, error) {
        if (settle()) reject(error);
      },
    };
    const { method, path, headers: requestHeaders, body: requestBody } = typeof request === 'string' ? { method: 'GET' as const, path: request } : request;
    try {
      dispatcher.dispatch({ method, path, ...(requestHeaders ? { headers: requestHeaders } : {}), ...(requestBody ? { body: requestBody } : {}) }, handler);
    } catch (err) {
      // dispatch throws once the dispatcher is closed.
      if (settle()) reject(err);
    }
  });
}

/** One line for a failed request; `timeoutMs` is what undici's timeouts were set to. */
export function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof DeadlineError) return `timed out after ${err.deadlineMs} ms (the whole request)`;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return `timed out after ${timeoutMs} ms (${err.code})`;
  }
  if (err instanceof undiciErrors.UndiciError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
