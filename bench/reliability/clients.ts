// clients.ts is the load of the reliability runs: a closed loop of concurrent clients, each sending one request at a time to a pod it picks and judging the answer.
import { request, type Agent, type OutgoingHttpHeaders } from 'node:http';
import { sleep } from '../../harness/wait.js';
import { percentile } from '../lib/stats.js';
import { valueFor } from '../lib/values.js';

/** What became of one request. */
export type Outcome =
  | 'ok'
  /** An error status the scenario asked for (a 404 for a missing key). */
  | 'expected-error'
  | 'wrong-status'
  /** 200 with other bytes than the origin's. */
  | 'wrong-value'
  | 'refused'
  /** The connection was reset or closed before a whole answer arrived. */
  | 'reset'
  | 'timeout'
  /** The client gave up on purpose (Call.abortAfterMs). */
  | 'aborted'
  | 'error';

export interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
}

export interface Call {
  path: string;
  headers?: OutgoingHttpHeaders;
  /** The key asked for, kept with the sample. */
  key?: string;
  /** A label kept with the sample (the kind of request). */
  tag?: string;
  /** Judges an HTTP answer. */
  check(status: number, body: Buffer): Outcome;
  /** Give up (outcome `aborted`) this long after sending, on a connection of its own. */
  abortAfterMs?: number;
}

export interface Sample {
  client: number;
  target: string;
  key: string | undefined;
  tag?: string;
  /** When the request was sent, ms after the load's t0. */
  startMs: number;
  ms: number;
  outcome: Outcome;
  status?: number;
  detail?: string;
}

/** The path of GET /api for `key` (and `group`). */
export function apiPath(key: string, group?: string): string {
  return `/api?key=${encodeURIComponent(key)}${group === undefined ? '' : `&group=${encodeURIComponent(group)}`}`;
}

/** 200 with exactly the origin's bytes for `key`. */
export function expectValue(key: string, size = 100): Call['check'] {
  return (status, body) => {
    if (status !== 200) return 'wrong-status';
    return body.equals(valueFor(key, size)) ? 'ok' : 'wrong-value';
  };
}

/** A GET of `key` that expects the origin's value. */
export function valueCall(key: string): Call {
  return { key, path: apiPath(key), check: expectValue(key) };
}

/** A call generator: a random one of `count` keys named `<prefix>-<n>`, each expecting its value. */
export function randomValueCalls(prefix: string, count: number): () => Call {
  return () => valueCall(`${prefix}-${Math.floor(Math.random() * count)}`);
}

/** Exactly `status` (an error the scenario asks for). */
export function expectStatus(status: number): Call['check'] {
  return (got) => (got === status ? 'expected-error' : 'wrong-status');
}

function classify(err: NodeJS.ErrnoException): { outcome: Outcome; detail: string } {
  const detail = `${err.code ?? 'error'}: ${err.message}`;
  if (err.code === 'ECONNREFUSED') return { outcome: 'refused', detail };
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'aborted') return { outcome: 'reset', detail };
  return { outcome: 'error', detail };
}

/** Sends one call and judges it; never rejects. */
export function send(target: Target, call: Call, timeoutMs: number): Promise<Pick<Sample, 'outcome' | 'status' | 'detail'>> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Pick<Sample, 'outcome' | 'status' | 'detail'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(
      { host: target.host, port: target.port, path: call.path, headers: call.headers, agent: call.abortAfterMs === undefined ? target.agent : false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ outcome: call.check(res.statusCode ?? 0, Buffer.concat(chunks)), status: res.statusCode }));
        res.on('error', (err: NodeJS.ErrnoException) => done({ ...classify(err), status: res.statusCode }));
        res.on('close', () => {
          if (!res.complete) done({ outcome: 'reset', status: res.statusCode, detail: 'connection closed before the end of the body' });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => done(classify(err)));
    const limit = call.abortAfterMs ?? timeoutMs;
    const timer = setTimeout(() => {
      done(call.abortAfterMs === undefined ? { outcome: 'timeout', detail: `no answer within ${limit} ms` } : { outcome: 'aborted' });
      req.destroy();
    }, limit);
    req.end();
  });
}

export interface LoadSpec {
  clients: number;
  /** No request is sent after this long (in-flight ones are waited for, up to timeoutMs). */
  durationMs: number;
  /** Stop after this many requests in all. Default: no limit but the duration. */
  maxRequests?: number;
  /** Each request's deadline. Default 10 s. */
  timeoutMs?: number;
  /** The pod client `client` sends its next request to; undefined waits 20 ms and asks again. */
  pick(client: number): Target | undefined;
  /** The next request of client `client`. */
  next(client: number, target: Target): Call;
  /** Sees every sample as it completes (e.g. to take a pod out of the clients' rotation). */
  onSample?(sample: Sample): void;
  /** Time zero of the samples' startMs (performance.now()); default the start of the load. */
  t0?: number;
}

/** Runs the closed loop until the duration or count runs out and every request has its answer. */
export async function closedLoop(spec: LoadSpec): Promise<Sample[]> {
  const t0 = spec.t0 ?? performance.now();
  const end = performance.now() + spec.durationMs;
  const max = spec.maxRequests ?? Infinity;
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const samples: Sample[] = [];
  let sent = 0;
  const client = async (id: number): Promise<void> => {
    while (performance.now() < end && sent < max) {
      const target = spec.pick(id);
      if (!target) {
        await sleep(20);
        continue;
      }
      sent++;
      const call = spec.next(id, target);
      const started = performance.now();
      const result = await send(target, call, timeoutMs);
      const sample: Sample = { client: id, target: target.name, key: call.key, tag: call.tag, startMs: started - t0, ms: performance.now() - started, ...result };
      samples.push(sample);
      spec.onSample?.(sample);
    }
  };
  await Promise.all(Array.from({ length: spec.clients }, (_, id) => client(id)));
  return samples;
}

export interface Summary {
  requests: number;
  /** Outcomes other than ok / expected-error / wrong-value, except those listed as expected. */
  failed: number;
  wrong: number;
  expectedErrors: number;
  byOutcome: Partial<Record<Outcome, number>>;
  /** A few failures, for the report. */
  examples: string[];
}

/** Counts `samples`; outcomes in `expected` (e.g. refused after a pod left) are not failures. */
export function summarize(samples: readonly Sample[], expected: readonly Outcome[] = []): Summary {
  const byOutcome: Partial<Record<Outcome, number>> = {};
  const examples: string[] = [];
  let failed = 0;
  for (const s of samples) {
    byOutcome[s.outcome] = (byOutcome[s.outcome] ?? 0) + 1;
    if (s.outcome === 'ok' || s.outcome === 'expected-error' || s.outcome === 'wrong-value' || expected.includes(s.outcome)) continue;
    failed++;
    if (examples.length < 3) examples.push(`${s.outcome}${s.status ? ` ${s.status}` : ''}${s.tag ? ` (${s.tag})` : ''} from ${s.target} at ${(s.startMs / 1000).toFixed(2)} s${s.detail ? ` (${s.detail})` : ''}`);
  }
  return { requests: samples.length, failed, wrong: byOutcome['wrong-value'] ?? 0, expectedErrors: byOutcome['expected-error'] ?? 0, byOutcome, examples };
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Latency of the requests that got an answer or failed on their own (not those the client aborted), sent in [fromMs, toMs). */
export function latency(samples: readonly Sample[], fromMs = -Infinity, toMs = Infinity): Latency {
  const ms = samples
    .filter((s) => s.startMs >= fromMs && s.startMs < toMs && s.outcome !== 'aborted')
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  return { count: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.length ? ms[ms.length - 1]! : NaN };
}

/** Picks uniformly among a changing set of pods: a client-side stand-in for a Service's endpoints. */
export class Rotation<T extends Target> {
  private members: T[];
  constructor(members: readonly T[]) {
    this.members = [...members];
  }
  get size(): number {
    return this.members.length;
  }
  has(member: T): boolean {
    return this.members.includes(member);
  }
  add(member: T): void {
    if (!this.members.includes(member)) this.members.push(member);
  }
  remove(member: T): void {
    this.members = this.members.filter((m) => m !== member);
  }
  pick(): T | undefined {
    return this.members[Math.floor(Math.random() * this.members.length)];
  }
}
