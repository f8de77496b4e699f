// render.ts renders the chart and the plain manifests into objects for the deploy tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';

/** Repository root: this file runs from dist/test/deploy/. */
export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
export const chartDir = join(repoRoot, 'helm', 'geecache');
export const deployDir = join(repoRoot, 'deploy');

/** The fields every rendered Kubernetes object has; the rest is read through kubernetes-models' types. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Parses multi-document YAML, dropping empty documents, and checks each is an object with kind and name. */
export function parseObjects(text: string, origin: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${origin}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${origin}: a document is not a mapping`);
    const object = value as Partial<K8sObject>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
      throw new Error(`${origin}: a document lacks apiVersion, kind or metadata.name: ${stringify(value).slice(0, 200)}`);
    }
    objects.push(object as K8sObject);
  }
  return objects;
}

function runs(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return false;
  }
  return spawnSync(path, ['version', '--short'], { encoding: 'utf8' }).status === 0;
}

let helmPath: string | undefined;

/** Path of a working helm binary; runs scripts/install-helm.sh when .cache/bin/helm is missing. */
export function helm(): string {
  if (helmPath !== undefined) return helmPath;
  const cached = join(repoRoot, '.cache', 'bin', 'helm');
  if (!runs(cached)) {
    const out = execFileSync('bash', [join(repoRoot, 'scripts', 'install-helm.sh')], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 120_000,
    });
    const printed = out.trim().split('\n').pop();
    if (printed !== cached || !runs(cached)) throw new Error(`install-helm.sh printed ${printed ?? '(nothing)'}, expected a working ${cached}`);
  }
  helmPath = cached;
  return cached;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs helm with arguments from the repository root; never throws on a non-zero exit. */
export function runHelm(args: string[]): HelmResult {
  const result = spawnSync(helm(), args, { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * `helm template <release> helm/geecache` with the given values (written to a
 * temporary values file) and extra flags. Throws with helm's stderr on failure.
 */
export function helmTemplate(values: Record<string, unknown> = {}, extra: string[] = [], release = 'geecache'): K8sObject[] {
  const scratch = scratchDir('geecache-values-');
  try {
    const valuesFile = join(scratch.path, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    const result = runHelm(['template', release, chartDir, '--namespace', 'cache', '-f', valuesFile, ...extra]);
    if (result.status !== 0) throw new Error(`helm template failed (${result.status}): ${result.stderr}`);
    return parseObjects(result.stdout, 'helm template');
  } finally {
    scratch.remove();
  }
}

/** `helm lint --strict helm/geecache` with the given values; never throws on findings. */
export function helmLint(values: Record<string, unknown> = {}): HelmResult {
  const scratch = scratchDir('geecache-values-');
  try {
    const valuesFile = join(scratch.path, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    return runHelm(['lint', '--strict', chartDir, '-f', valuesFile]);
  } finally {
    scratch.remove();
  }
}

/** Like helmTemplate, but expects failure and returns helm's error output. */
export function helmTemplateError(values: Record<string, unknown>): string {
  const scratch = scratchDir('geecache-values-');
  try {
    const valuesFile = join(scratch.path, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    const result = runHelm(['template', 'geecache', chartDir, '-f', valuesFile]);
    if (result.status === 0) throw new Error('helm template succeeded, expected a failure');
    return result.stderr;
  } finally {
    scratch.remove();
  }
}

/**
 * The chart's NOTES.txt as `helm install` would print it. `helm template`
 * leaves NOTES out and `helm install --dry-run` needs a cluster, so a copy of
 * the chart renders the same text through `tpl` into a ConfigMap.
 */
export function renderNotes(values: Record<string, unknown> = {}): string {
  const scratch = scratchDir('geecache-notes-');
  try {
    const copy = join(scratch.path, 'geecache');
    cpSync(chartDir, copy, { recursive: true });
    cpSync(join(copy, 'templates', 'NOTES.txt'), join(copy, 'notes-probe.txt'));
    writeFileSync(
      join(copy, 'templates', 'notes-probe.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\ndata:\n  notes: {{ tpl (.Files.Get "notes-probe.txt") . | toJson }}\n',
    );
    const valuesFile = join(scratch.path, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    const result = runHelm(['template', 'geecache', copy, '-f', valuesFile, '--show-only', 'templates/notes-probe.yaml']);
    if (result.status !== 0) throw new Error(`rendering NOTES failed: ${result.stderr}`);
    const [configMap] = parseObjects(result.stdout, 'notes');
    const notes = (configMap as { data?: { notes?: string } } | undefined)?.data?.notes;
    if (typeof notes !== 'string') throw new Error('no notes rendered');
    return notes;
  } finally {
    scratch.remove();
  }
}

/** Files that deploy/kustomization.yaml lists under resources. */
export function kustomizationResources(): string[] {
  const doc: unknown = parse(readFileSync(join(deployDir, 'kustomization.yaml'), 'utf8'));
  const resources = (doc as { resources?: unknown } | null)?.resources;
  if (!Array.isArray(resources) || !resources.every((r): r is string => typeof r === 'string')) {
    throw new Error('kustomization.yaml: resources is not a list of files');
  }
  return resources;
}

/** deploy/ read file by file, as kustomize would without transformers. */
export function readDeployFiles(): K8sObject[] {
  return kustomizationResources().flatMap((file) => parseObjects(readFileSync(join(deployDir, file), 'utf8'), file));
}

/** YAML files in deploy/ other than the kustomization itself. */
export function deployYamlFiles(): string[] {
  return readdirSync(deployDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
}

/** Whether kubectl (with its built-in kustomize) is on PATH. */
export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

/** deploy/ rendered by `kubectl kustomize`, or read file by file when kubectl is missing. */
export function renderDeploy(): { objects: K8sObject[]; via: 'kubectl' | 'files' } {
  if (!hasKubectl()) return { objects: readDeployFiles(), via: 'files' };
  const out = execFileSync('kubectl', ['kustomize', deployDir], { encoding: 'utf8', timeout: 30_000 });
  return { objects: parseObjects(out, 'kubectl kustomize'), via: 'kubectl' };
}

/** The objects of one kind (and name, if given). */
export function ofKind<T>(objects: K8sObject[], kind: string, name?: string): T[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as unknown as T[];
}

/** The single object of a kind (and name); throws when there is not exactly one. */
export function one<T>(objects: K8sObject[], kind: string, name?: string): T {
  const found = ofKind<T>(objects, kind, name);
  const [first] = found;
  if (found.length !== 1 || first === undefined) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return first;
}

/** Whether every key/value of selector appears in labels (an empty selector matches nothing here, on purpose). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
