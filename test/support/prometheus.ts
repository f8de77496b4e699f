// prometheus.ts runs a Prometheus binary for a test, on loopback, and asks its HTTP API about queries and rules.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet } from '../../harness/cache-process.js';
import { freePort } from '../../harness/ports.js';

/** Repository root: this file runs from dist/test/support/. */
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

/**
 * The binary scripts/install-prometheus.sh leaves in .cache/ (at the version it
 * pins), or undefined when it has not been built: building it takes minutes,
 * so only `npm run test:k8s` does.
 */
export function cachedPrometheus(): string | undefined {
  const script = readFileSync(join(repoRoot, 'scripts', 'install-prometheus.sh'), 'utf8');
  const version = /^PROMETHEUS_VERSION=(\S+)$/m.exec(script)?.[1];
  if (!version) throw new Error('scripts/install-prometheus.sh: no PROMETHEUS_VERSION= line');
  const binary = join(repoRoot, '.cache', 'prometheus', version, 'prometheus');
  try {
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}

export interface RunningPrometheus {
  /** http://127.0.0.1:<port> */
  base: string;
  /** The last 20 kB of its log. */
  log(): string;
  stop(): void;
}

/** Starts `binary` with `configFile` and its data in `dataDir`; resolves once /-/ready answers, rejects with its log if it exits first. */
export async function startPrometheus(binary: string, configFile: string, dataDir: string): Promise<RunningPrometheus> {
  const port = await freePort();
  const child = spawn(binary, [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  const running: RunningPrometheus = {
    base: `http://127.0.0.1:${port}`,
    log: () => log,
    stop: () => void child.kill('SIGTERM'),
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${log}`);
    const ready = await httpGet(`${running.base}/-/ready`, 1000).catch(() => undefined);
    if (ready?.status === 200) return running;
    if (Date.now() > deadline) {
      running.stop();
      throw new Error(`prometheus not ready within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface QueryAnswer {
  /** The API's own status: "success" or "error". */
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string] }> };
}

/** An instant query through /api/v1/query; a refused expression answers 400 with status "error", which is returned, not thrown. */
export async function instantQuery(base: string, expr: string): Promise<QueryAnswer> {
  const answer = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return JSON.parse(answer.body) as QueryAnswer;
}

export interface LoadedRule {
  name: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
  query: string;
}

/** The rules Prometheus loaded from its rule files, every group's. */
export async function loadedRules(base: string): Promise<LoadedRule[]> {
  const answer = JSON.parse((await httpGet(`${base}/api/v1/rules`)).body) as { data: { groups: Array<{ rules: LoadedRule[] }> } };
  return answer.data.groups.flatMap((g) => g.rules);
}
