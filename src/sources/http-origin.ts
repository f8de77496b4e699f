// http-origin.ts loads values from an origin over HTTP: GET <origin>/<percent-encoded key>.
import { Pool } from 'undici';
import { ByteView } from '../engine/byteview.js';
import { NotFoundError, SourceError } from '../errors.js';
import type { Getter } from '../engine/group.js';
import { describeNetworkError, fetchBytes, type FetchedBytes } from '../http/fetch-bytes.js';
import { pathSegment } from '../protocol/path-segment.js';
import { originExpiry } from './origin-freshness.js';

export interface HttpOriginOptions {
  /** Origin URL, optionally with a path prefix: http://origin.internal:8080/values */
  origin: string;
  /** Deadline for each phase of a lookup: connecting, the response headers, each gap in the body. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest value accepted. Default 64 MiB. */
  maxValueBytes?: number;
  /** Keep-alive connections to the origin at most. Default 16. */
  connections?: number;
}

/** A source for a group, plus close() for its connections. */
export interface ClosableGetter {
  getter: Getter;
  /** Lets lookups in flight finish, then closes the connections. */
  close(): Promise<void>;
  /** Aborts lookups in flight and closes at once. */
  destroy(): Promise<void>;
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
  const connections = new Pool(url.origin, {
    connections: options.connections ?? 16,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const getter: Getter = async (key, signal) => {
    let answer: FetchedBytes;
    try {
      // Bounded by undici's connect, headers and body timeouts (see peer-client.ts).
      answer = await fetchBytes(connections, `${prefix}/${pathSegment(key)}`, maxValueBytes, signal);
    } catch (err) {
      const reason = describeNetworkError(err, timeoutMs);
      throw new SourceError(`origin ${url.origin} failed for ${JSON.stringify(key)}: ${reason}`, { cause: err, publicMessage: 'the origin did not answer' });
    }
    const { status, body } = answer;
    // The body was just read and nobody else holds it: no copy needed.
    if (status === 200) return ByteView.adopt(body, originExpiry(answer.headers));
    if (status === 404) throw new NotFoundError(`${key} not exist`);
    const detail = body.toString('utf8').trim().slice(0, 200);
    throw new SourceError(`origin ${url.origin} answered ${status} for ${JSON.stringify(key)}${detail ? `: ${detail}` : ''}`, {
      publicMessage: `the origin answered ${status}`,
    });
  };
  return { getter, close: () => connections.close(), destroy: () => connections.destroy() };
}
