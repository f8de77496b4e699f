// report.ts prints the result table and writes the machine-readable JSON (bench/results/<timestamp>.json and latest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Verdict = 'PASS' | 'FAIL' | 'info' | 'SKIP' | 'ERROR';

/** One line of the table; `detail` carries everything else into the JSON. */
export interface Row {
  case: string;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** e.g. "0.93x rps, 1.10x p99 vs baseline" or "loads=1". */
  ratio?: string;
  goal?: string;
  verdict: Verdict;
  /** Generator and server CPU in cores (1.0 = one core fully busy), when measured. */
  generatorCores?: number;
  serverCores?: number;
  /** Busy cores nobody in the case accounts for (other work on the host, loopback softirq, steal). */
  otherCores?: number;
  note?: string;
  detail?: unknown;
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function formatTable(rows: readonly Row[]): string {
  const header = ['case', 'rps', 'p50 ms', 'p99 ms', 'ratio', 'goal', 'result', 'gen cpu', 'srv cpu', 'other'];
  const body = rows.map((r) => [
    r.case,
    fmt(r.rps),
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    r.ratio ?? '-',
    r.goal ?? '-',
    r.verdict,
    fmt(r.generatorCores, 2),
    fmt(r.serverCores, 2),
    fmt(r.otherCores, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const numeric = new Set([1, 2, 3, 7, 8, 9]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.case}: ${r.note}`);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

/** Writes `result` to `<dir>/<timestamp>.json`, `<dir>/latest.json` and `extraPath` if given; returns the paths. */
export function writeResults(dir: string, result: unknown, startedAt: Date, extraPath?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const paths = [join(dir, `${stamp}.json`), join(dir, 'latest.json')];
  if (extraPath) {
    mkdirSync(dirname(extraPath), { recursive: true });
    paths.push(extraPath);
  }
  const text = JSON.stringify(result, null, 2) + '\n';
  for (const path of paths) writeFileSync(path, text);
  return paths;
}
