// run.ts is `npm run reliability`: it runs every fault scenario against real geecache processes, one after another, and writes RELIABILITY.md.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverBuilt } from '../../harness/pod.js';
import { installCleanup, stopAll } from '../../harness/child.js';
import { machine, markdown, plainTable, type ClusterRow, type Outcome } from './report.js';
import type { Scenario } from './scenario.js';
import { badInput } from './scenarios/bad-input.js';
import { callerDisconnect } from './scenarios/caller-disconnect.js';
import { clientsGiveUp } from './scenarios/clients-give-up.js';
import { greedyBatch } from './scenarios/greedy-batch.js';
import { hungPeer } from './scenarios/hung-peer.js';
import { memoryBound, memoryBoundTiny } from './scenarios/memory-bound.js';
import { ownerErrors } from './scenarios/owner-errors.js';
import { peerKilled } from './scenarios/peer-killed.js';
import { restartChurn } from './scenarios/restart-churn.js';
import { sigtermUnderLoad } from './scenarios/sigterm-under-load.js';
import { slowSource } from './scenarios/slow-source.js';

const SCENARIOS: readonly Scenario[] = [
  peerKilled,
  hungPeer,
  slowSource,
  callerDisconnect,
  ownerErrors,
  restartChurn,
  sigtermUnderLoad,
  badInput,
  memoryBound,
  memoryBoundTiny,
  clientsGiveUp,
  greedyBatch,
];
/** No scenario takes a fraction of this; past it the scenario is an ERROR row and its processes are killed. */
const SCENARIO_DEADLINE_MS = 150_000;
const DEFAULT_OUT = fileURLToPath(new URL('../../../RELIABILITY.md', import.meta.url));
const COMMAND = 'npm run reliability';
const CLUSTER_RESULTS = fileURLToPath(new URL('../../../.cache/k8s/reliability.jsonl', import.meta.url));

const USAGE = `usage: npm run reliability [-- --only ${SCENARIOS.map((s) => s.id).join(',')}] [--out FILE]
  --only IDS   run these scenarios only (then RELIABILITY.md is left alone unless --out is given)
  --out FILE   write the report there (default: RELIABILITY.md at the repository root for a full run)
Pod logs go to BENCH_CHILD_LOGS (default: a new directory under ${tmpdir()}).`;

function parseArgs(argv: readonly string[]): { only?: Set<string>; out?: string } {
  const options: { only?: Set<string>; out?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--only') options.only = new Set(value().split(','));
    else if (arg === '--out') options.out = value();
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  for (const id of options.only ?? []) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`no scenario ${id}\n${USAGE}`);
  return options;
}

async function runOne(scenario: Scenario): Promise<Outcome> {
  const log = (message: string): void => console.error(`  [${scenario.id}] ${message}`);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${SCENARIO_DEADLINE_MS / 1000} s`)), SCENARIO_DEADLINE_MS);
    });
    const result = await Promise.race([scenario.run(log), deadline]);
    return { scenario, result, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    const error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    log(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    return { scenario, error, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    // Whatever a failed or timed-out scenario left running.
    await stopAll(1000);
  }
}

/** What the last `npm run test:k8s` here measured (scripts/test-k8s.mjs keeps it under .cache/k8s/). */
function clusterRows(): { at: Date; rows: ClusterRow[] } | undefined {
  if (!existsSync(CLUSTER_RESULTS)) return undefined;
  const rows = readFileSync(CLUSTER_RESULTS, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ClusterRow);
  return { at: statSync(CLUSTER_RESULTS).mtime, rows };
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseArgs(process.argv.slice(2));
  if (!serverBuilt()) throw new Error('dist/src/main.js is missing: run `npm run bench:build` first (npm run reliability does)');
  process.env.BENCH_CHILD_LOGS ??= mkdtempSync(join(tmpdir(), 'geecache-reliability-'));
  const chosen = SCENARIOS.filter((s) => !options.only || options.only.has(s.id));
  const startedAt = new Date();
  const box = machine();
  const began = performance.now();
  console.error(`reliability: ${chosen.length} scenarios on ${box.cores} cores (${box.cpuModel}), Node ${box.node}; pod logs in ${process.env.BENCH_CHILD_LOGS}`);
  const outcomes: Outcome[] = [];
  for (const scenario of chosen) {
    console.error(`${scenario.title}: ${scenario.injected}`);
    const outcome = await runOne(scenario);
    outcomes.push(outcome);
    console.error(plainTable([outcome]));
  }
  const totalSeconds = (performance.now() - began) / 1000;
  const out = options.out ?? (options.only ? undefined : DEFAULT_OUT);
  console.log(plainTable(outcomes));
  console.log(`\n${outcomes.length} scenarios in ${totalSeconds.toFixed(0)} s`);
  if (out) {
    writeFileSync(out, markdown({ startedAt, totalSeconds, machine: box, outcomes, command: COMMAND, cluster: clusterRows() }));
    console.log(`wrote ${out}`);
  }
  // A problem found is a row of the report, not a failed command; a scenario that could not run is.
  process.exitCode = outcomes.some((o) => !o.result) ? 1 : 0;
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  await stopAll(500);
  process.exit(1);
});
