// runner.ts is the bench's machinery around the cases: the command line, which Node and cores the servers get,
// running each case (a failure becomes an ERROR row), the table on stdout and the JSON in bench/results/.
import { cpus as cpuInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { hasTaskset, installCleanup, pinProcess, stopAll } from '../../harness/child.js';
import { serverBuilt } from '../../harness/pod.js';
import { resolveServerNode, useServerNode, type ServerNodeChoice } from '../../harness/server-node.js';
import type { BenchCase, ThroughputCase } from './case.js';
import { CASES, parseConfig, USAGE, type BenchConfig } from './config.js';
import { formatTable, writeResults, type Row } from './report.js';
import { throughputStage } from './throughput-stage.js';
import { VALUE_BYTES } from './values.js';

const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

const began = performance.now();
const log = (message: string): void => console.error(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${message}`);

function coresNote(config: BenchConfig): string {
  if (config.serverCpus === undefined) {
    return 'NOT PINNED (no taskset or fewer than 2 cores): servers and generator share all cores; ratios are indicative only.';
  }
  return (
    `Servers on core ${config.serverCpus}; load generator, origin and the bench process on core ${config.loadCpus}. ` +
    `"Same total cores" (goal 2): every server process of a case shares core ${config.serverCpus}, so the peer hop's two pods ` +
    `(API pod and owner pod) together get the one core the API-hit pod gets alone.`
  );
}

/** Runs a stage; a failure becomes an ERROR row (with the reason) and the other stages still run. */
async function stage(name: string, rows: Row[], body: () => Promise<Row[]> | Row[]): Promise<void> {
  try {
    rows.push(...(await body()));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} failed: ${message}`);
    rows.push({ case: name, verdict: 'ERROR', note: message.split('\n')[0], detail: { error: message } });
    await stopAll();
  }
}

/** Parses the command line, runs the selected `cases` in their order, prints the table and writes the JSON; the exit code. */
export async function runBench(cases: readonly BenchCase[], argv: string[]): Promise<number> {
  checkCaseList(cases);
  let config: BenchConfig;
  try {
    config = parseConfig(argv);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (config.node === 'image') log("finding the image's Node (scripts/node24.sh; the first time it downloads it)");
  let node: ServerNodeChoice;
  try {
    node = resolveServerNode(config.node);
  } catch (err) {
    console.error(`--node ${config.node}: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  useServerNode(node.path);
  installCleanup();
  pinProcess(process.pid, config.loadCpus);
  const startedAt = new Date();
  const cores = coresNote(config);
  const nodeNote = `servers (pods and baselines) on Node ${node.version}: ${node.note}; the bench and its generator on ${process.version}`;
  log(`geecache bench (${config.quick ? 'quick' : 'full'}): cases ${[...config.cases].join(', ')}`);
  log(nodeNote);
  log(`generator ${config.generator}, ${config.connections} connections, ${VALUE_BYTES}-byte values, ${config.reps} x ${config.durationS} s per case`);
  log(cores);

  const rows: Row[] = [];
  const built = serverBuilt();
  const wanted = cases.filter((c) => config.cases.has(c.name));
  const throughput = wanted.filter((c): c is ThroughputCase => c.kind === 'throughput');
  let throughputDone = false;
  for (const c of wanted) {
    if (c.kind === 'throughput') {
      // Every throughput case runs in one stage, side by side, where the first of them stands in the list.
      if (!throughputDone) await stage('throughput', rows, () => throughputStage(config, throughput, log));
      throughputDone = true;
    } else if (c.needsServer && !built) rows.push({ case: c.name, verdict: 'SKIP', note: 'dist/src/main.js is missing (server not built)' });
    else await stage(c.name, rows, () => c.rows(config, log));
  }

  const finishedAt = new Date();
  const durationS = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  console.log(`\n${formatTable(rows)}\n`);
  console.log(`node: ${nodeNote}`);
  console.log(`cores: ${cores}`);
  console.log(`gen cpu / srv cpu: cores busy during the measured runs (1.00 = one core saturated). A generator near 1.00 was the limit, not the server.`);
  const result = {
    version: 1,
    mode: config.quick ? 'quick' : 'full',
    argv,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS,
    environment: {
      node: process.version,
      serverNode: { version: node.version, path: node.path, note: node.note },
      cpus: cpuInfo().length,
      cpuModel: cpuInfo()[0]?.model,
      taskset: hasTaskset,
      serverCpus: config.serverCpus ?? null,
      loadCpus: config.loadCpus ?? null,
      generator: config.generator,
      connections: config.connections,
      valueBytes: VALUE_BYTES,
      reps: config.reps,
      durationPerRunS: config.durationS,
      warmupS: config.warmupS,
      rewarmS: config.rewarmS,
      cores,
    },
    rows,
  };
  const paths = writeResults(RESULTS_DIR, result, startedAt, config.jsonPath);
  console.log(`results: ${paths.join(', ')} (${durationS.toFixed(1)} s)`);
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}


/** Every name `--case` accepts has exactly one case in the list, so a case cannot be named and never run. */
function checkCaseList(cases: readonly BenchCase[]): void {
  const listed = cases.map((c) => c.name);
  const missing = CASES.filter((name) => !listed.includes(name));
  const twice = listed.filter((name, i) => listed.indexOf(name) !== i);
  if (missing.length > 0 || twice.length > 0) throw new Error(`bench/run.ts: cases missing from the list: [${missing.join(', ')}]; listed twice: [${twice.join(', ')}]`);
}
