// scenario.ts is what every reliability scenario gives the report: one table row, the checks behind its verdict, and the evidence when a check fails.
import type { Latency, Summary } from './clients.js';
import type { Pod } from './pods.js';

export interface Check {
  /** What must hold, with the measured number: "failed = 0 (got 3)". */
  what: string;
  pass: boolean;
}

export interface Result {
  requests: number;
  failed: number;
  wrong: number;
  /** Latency during the fault. */
  p50Ms: number;
  p99Ms: number;
  /** What the row's notes say, in order. */
  notes: string[];
  checks: Check[];
  /** Pod output worth showing when a check failed. */
  evidence?: string[];
}

export interface Scenario {
  /** Short name for --only. */
  id: string;
  title: string;
  injected: string;
  run(log: (message: string) => void): Promise<Result>;
}

/** A check that `got` equals `want`. */
export function equal(what: string, got: number, want: number): Check {
  return { what: `${what} = ${want}${got === want ? '' : ` (got ${got})`}`, pass: got === want };
}

export function atMost(what: string, got: number, limit: number, unit = ''): Check {
  return { what: `${what} ≤ ${limit}${unit} (got ${fmt(got)}${unit})`, pass: got <= limit };
}

export function atLeast(what: string, got: number, floor: number, unit = ''): Check {
  return { what: `${what} ≥ ${floor}${unit} (got ${fmt(got)}${unit})`, pass: got >= floor };
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
}

/** The row's counts and latency from a load's summary and its fault window's latency. */
export function rowOf(summary: Summary, during: Latency): Pick<Result, 'requests' | 'failed' | 'wrong' | 'p50Ms' | 'p99Ms'> {
  return { requests: summary.requests, failed: summary.failed, wrong: summary.wrong, p50Ms: during.p50, p99Ms: during.p99 };
}

/** The usual checks of a load that should have gone right: nothing failed, no wrong bytes. */
export function cleanLoad(summary: Summary): Check[] {
  return [equal('failed', summary.failed, 0), equal('wrong values', summary.wrong, 0)];
}

/** Every pod in `pods` still runs and answers /healthz, and none logged an error. */
export async function podsHealthy(pods: readonly Pod[]): Promise<Check[]> {
  const checks: Check[] = [];
  for (const pod of pods) {
    let status = 0;
    try {
      const res = await fetch(`${pod.http}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = 0;
    }
    checks.push({ what: `${pod.name} alive and /healthz 200${pod.alive && status === 200 ? '' : ` (alive: ${pod.alive}, /healthz: ${status || 'no answer'})`}`, pass: pod.alive && status === 200 });
  }
  return checks;
}

/** Error-level lines the pods logged, as a check (0 wanted) and evidence. */
export function noErrorLogs(pods: readonly Pod[]): { check: Check; evidence: string[] } {
  const count = pods.reduce((n, pod) => n + pod.errorLines, 0);
  return {
    check: equal('error lines in pod logs', count, 0),
    evidence: pods.flatMap((pod) => pod.firstErrors.map((line) => `${pod.name}: ${line}`)),
  };
}

/** The outcomes of a summary other than ok, for the notes: "expected-error 300, refused 16". */
export function outcomes(summary: Summary): string {
  const parts = Object.entries(summary.byOutcome)
    .filter(([outcome]) => outcome !== 'ok')
    .map(([outcome, n]) => `${outcome} ${fmt(n)}`);
  return parts.length ? parts.join(', ') : 'all 200';
}
