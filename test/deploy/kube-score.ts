// kube-score.ts finds the kube-score binary (scripts/install-kube-score.sh) and runs it on rendered objects with test/deploy/kube-score.yaml's settings.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot, scratchDir, type K8sObject } from './render.js';

export interface KubeScoreSettings {
  kubernetesVersion: string;
  enabledOptionalTests: string[];
  ignoredTests: Array<{ id: string; why: string }>;
}

export function kubeScoreSettings(): KubeScoreSettings {
  return parse(readFileSync(join(repoRoot, 'test', 'deploy', 'kube-score.yaml'), 'utf8')) as KubeScoreSettings;
}

/**
 * The binary's path from scripts/install-kube-score.sh (which builds it from the
 * Go module proxy on first use), or why there is none.
 */
export function kubeScore(): { path: string } | { missing: string } {
  const run = spawnSync('bash', [join(repoRoot, 'scripts', 'install-kube-score.sh')], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  const path = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  if (run.status === 0 && path) return { path };
  return { missing: `scripts/install-kube-score.sh failed (${run.status ?? run.signal ?? run.error?.message}): ${(run.stderr ?? '').trim().slice(-2000)}` };
}

/** One check's verdict on one object, as `kube-score score -o json` prints it (format v2). */
export interface CheckResult {
  check: { id: string; name: string };
  grade: number;
  skipped: boolean;
  comments: Array<{ path?: string; summary?: string; description?: string }> | null;
}

export interface ScoredObject {
  object_name: string;
  type_meta: { kind: string; apiVersion: string };
  object_meta: { name: string };
  checks: CheckResult[];
}

/** kube-score's grade for a warning; critical is lower, "almost OK" and OK are higher. */
export const GRADE_WARNING = 5;

/** Runs `kube-score score` on the objects with the settings file's flags; warnings count as failures. */
export function scoreObjects(binary: string, objects: K8sObject[], settings = kubeScoreSettings()): { status: number | null; scored: ScoredObject[]; stderr: string } {
  const scratch = scratchDir('geecache-kube-score-');
  try {
    const file = join(scratch.path, 'rendered.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    const args = [
      'score',
      '--output-format', 'json',
      '--kubernetes-version', settings.kubernetesVersion,
      '--exit-one-on-warning',
      ...settings.enabledOptionalTests.flatMap((id) => ['--enable-optional-test', id]),
      ...settings.ignoredTests.flatMap(({ id }) => ['--ignore-test', id]),
      file,
    ];
    const run = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000 });
    if (run.error) throw run.error;
    return { status: run.status, scored: JSON.parse(run.stdout) as ScoredObject[], stderr: run.stderr };
  } finally {
    scratch.remove();
  }
}

/** "Kind/name check-id: comment" for every check that was not skipped and graded a warning or worse. */
export function findings(scored: ScoredObject[]): string[] {
  return scored.flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade <= GRADE_WARNING)
      .map((c) => `${o.type_meta.kind}/${o.object_meta.name} ${c.check.id}: ${(c.comments ?? []).map((m) => `${m.path ?? ''} ${m.summary ?? ''}`.trim()).join('; ')}`),
  );
}

/** The ids `kube-score list` knows. */
export function knownChecks(binary: string): Set<string> {
  const run = spawnSync(binary, ['list'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`kube-score list failed: ${run.stderr}`);
  return new Set(run.stdout.split('\n').filter(Boolean).map((line) => line.split(',')[0] ?? ''));
}
