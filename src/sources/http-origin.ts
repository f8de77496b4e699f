// http-origin.ts loads values from an origin over HTTP: GET <origin>/<percent-encoded key>.
import { Pool } from 'undici';
import { ByteView } from '../engine/byteview.js';
import { DeadlineError, NotFoundError, SourceError } from '../errors.js';
import type { Getter } from '../engine/group.js';
import { LoadLimiter } from '../engine/load-limiter.js';
import { describeNetworkError, fetchBytes, type FetchedBytes } from '../http/fetch-bytes.js';
import { pathSegment } from '../protocol/path-segment.js';
import { originExpiry } from './origin-freshness.js';

export interface HttpOriginOptions {
  /** Origin URL, optionally with a path prefix: http://origin.internal:8080/values */
  origin: string;
  /** Deadline of a whole lookup, and so of each phase (connecting, the headers, each gap in the body). Default 5000 ms. */
  timeoutMs?: number;
  /** Largest value accepted. Default 64 MiB. */
  maxValueBytes?: number;
  /** Lookups running at once at most, one connection each. Default 32. */
  concurrency?: number;
  /** Lookups waiting for a turn at most; past it a lookup is refused at once (503). Default 256. */
  queue?: number;
}

/** A source for a group, plus close() for its connections. */
export interface ClosableGetter {
  getter: Getter;
  /** Lets lookups in flight finish, then closes the connections. */
  close(): Promise<void>;
  /** Aborts lookups in flight and closes at once. */
  destroy(): Promise<void>;
  /** Lookups running and queued, and those refused, for metrics. */
  limiter: LoadLimiter;
}

/**
 * 200 is the value, 404 is not-found, anything else (or no answer in time) is a source failure:
 * its message (origin URL, the network error, the start of the body) is for the log, and the
 * client is told only that the origin failed, and with which status.
 * A value expires as the origin's Cache-Control, Expires and Age say (origin-freshness.ts); the
 * group's TTL caps it.
 */
export function httpOriginSource(options: HttpOriginOptions): ClosableGetter {
  const url = new URL(options.origin);
  const prefix = url.pathname.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxValueBytes = options.maxValueBytes ?? 64 * 1024 * 1024;
  const limiter = new LoadLimiter({ concurrency: options.concurrency ?? 32, queue: options.queue ?? 256, name: `origin ${url.origin}` });
  const connections = new Pool(url.origin, {
    connections: options.concurrency ?? 32,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const lookup = async (key: string, signal: AbortSignal | undefined): Promise<FetchedBytes> => {
    try {
      // undici's timeouts bound each phase; the deadline bounds the whole lookup (a body trickling in forever).
      return await fetchBytes(connections, `${prefix}/${pathSegment(key)}`, maxValueBytes, { signal, deadlineMs: timeoutMs });
    } catch (err) {
      // Nobody waits any more (the flight's signal): its reason says so, and nobody reads it.
      if (signal?.aborted) throw err;
      if (err instanceof DeadlineError) {
        throw new SourceError(`origin ${url.origin} timed out after ${timeoutMs} ms for ${JSON.stringify(key)} (the whole request)`, {
          cause: err,
          publicMessage: 'the origin did not answer',
        });
      }
      const reason = describeNetworkError(err, timeoutMs);
      throw new SourceError(`origin ${url.origin} failed for ${JSON.stringify(key)}: ${reason}`, { cause: err, publicMessage: 'the origin did not answer' });
    }
  };
  const getter: Getter = async (key, signal) => {
    const answer = await limiter.run(() => lookup(key, signal), signal);
    const { status, body } = answer;
    // The body was just read and nobody else holds it: no copy needed.
    if (status === 200) return ByteView.adopt(body, originExpiry(answer.headers));
    if (status === 404) throw new NotFoundError(`${key} not exist`);
    const detail = body.toString('utf8').trim().slice(0, 200);
    throw new SourceError(`origin ${url.origin} answered ${status} for ${JSON.stringify(key)}${detail ? `: ${detail}` : ''}`, {
      publicMessage: `the origin answered ${status}`,
    });
  };
  return { getter, close: () => connections.close(), destroy: () => connections.destroy(), limiter };
}
