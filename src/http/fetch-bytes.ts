// fetch-bytes.ts makes one GET through an undici dispatcher, collects the status and whole body, and names its failures in one line.
import { errors as undiciErrors, type Dispatcher } from 'undici';

export interface FetchedBytes {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * GETs `path` with undici's low-level dispatch API: no body stream, async iterator
 * or response object per request, which the peer hop pays for on every miss
 * (bench/: peer-hop case). Rejects with undici's error (refused, reset, timeouts)
 * or when the body exceeds `maxBytes`. The dispatcher's connect, headers and
 * body timeouts bound the request.
 */
export function fetchBytes(dispatcher: Dispatcher, path: string, maxBytes: number, signal?: AbortSignal): Promise<FetchedBytes> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: FetchedBytes['headers'] = {};
    let total = 0;
    const chunks: Buffer[] = [];
    let onAbort: (() => void) | undefined;
    const settle = () => {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        if (!signal) return;
        if (signal.aborted) return controller.abort(signal.reason as Error);
        onAbort = () => controller.abort(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(controller, chunk) {
        total += chunk.length;
        if (total > maxBytes) controller.abort(new Error(`response larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      },
      onResponseEnd() {
        settle();
        resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
      },
      onResponseError(_controller, error) {
        settle();
        reject(error);
      },
    };
    dispatcher.dispatch({ method: 'GET', path }, handler);
  });
}

/** One line for a failed request; `timeoutMs` is what undici's timeouts were set to. */
export function describeNetworkError(err: unknown, timeoutMs: number): string {
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
