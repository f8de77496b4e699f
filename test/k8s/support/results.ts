// results.ts keeps what the real-cluster tests measured under faults, for RELIABILITY.md (npm run reliability adds them).
import { appendFileSync } from 'node:fs';
import { quantile, type LoopReport } from './traffic.js';

/** One row of RELIABILITY.md's real-cluster table. */
export interface ClusterResult {
  scenario: string;
  injected: string;
  requests: number;
  failed: number;
  wrong: number;
  p50Ms: number;
  p99Ms: number;
  notes: string;
}

/** Appends a row to the file scripts/test-k8s.mjs names (one JSON object a line); nothing when run otherwise. */
export function recordClusterResult(scenario: string, injected: string, report: LoopReport, notes: string): void {
  const file = process.env.GEECACHE_K8S_RESULTS;
  if (!file) return;
  const row: ClusterResult = {
    scenario,
    injected,
    requests: report.requests,
    failed: report.failures.length,
    wrong: report.wrong,
    p50Ms: quantile(report.latenciesMs, 0.5),
    p99Ms: quantile(report.latenciesMs, 0.99),
    notes,
  };
  appendFileSync(file, JSON.stringify(row) + '\n');
}
