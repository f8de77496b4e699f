// instructions.ts counts the user-space instructions per /api hit, under callgrind, for the baseline and a geecache pod.
//
// Usage: npm run bench:build && node dist/bench/experiments/instructions.js [--requests 10000] [--warmup 40000] [--settle 60000]
// Needs valgrind (Debian: apt-get install valgrind). Not part of `npm run bench` or the tests: it takes a few minutes.
//
// Requests per second on a shared 2-core host vary by several percent from one run to the next, more than most
// single changes to the hit path are worth. An instruction count does not depend on the host's speed, but the
// pod's still moves between runs (why is not known): the baseline's repeated within
// 0.6% (57,375-57,699), the pod's within 5% (56,648-59,309), so a change of 1,000 instructions per request
// needs three or four runs each to show. It leaves out the kernel (writev and read are about half of a hit's
// time) and cache misses; valgrind's --cache-sim=yes --branch-sim=yes can add simulated ones.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBaseline } from '../lib/baseline.js';
import { startCluster } from '../lib/cluster.js';
import { startOrigin } from '../lib/origin.js';
import { hasCommand, installCleanup, type Child } from '../../harness/child.js';

const CONNECTIONS = 50;
const KEY = 'api-0'; // a one-pod ring owns every key

/** Sends `count` keep-alive GETs of `path` over 50 connections and resolves when all are answered. */
function drive(base: string, path: string, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let sent = 0;
  let answered = 0;
  return new Promise<void>((resolve, reject) => {
    const one = (): void => {
      if (sent >= count) return;
      sent++;
      const req = get(`${base}${path}`, { agent, timeout: 60_000 }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}`));
        res.resume();
        res.on('end', () => {
          if (++answered === count) resolve();
          else one();
        });
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 60 s`)));
      req.on('error', reject);
    };
    for (let i = 0; i < CONNECTIONS; i++) one();
  }).finally(() => agent.destroy());
}

/** Runs `callgrind_control args` and resolves when it exits. */
function callgrindControl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn('callgrind_control', args, { stdio: 'ignore' });
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${args.join(' ')} exited with ${code}`))));
  });
}

/** Sum of the `totals:` lines of every dump callgrind wrote for `prefix` (one file per dump and thread). */
function dumpedInstructions(dir: string, prefix: string): number {
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    const match = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
    if (match?.[1]) total += Number(match[1]);
  }
  return total;
}

interface Target {
  /** The callgrind dump files start with `${name}.`. */
  name: string;
  child: Child;
  base: string;
  path: string;
  /** Requests a pod in service also gets (Prometheus scrapes), sent around the warm-up. */
  scrape?: string;
}

/**
 * Warms `target` up, then counts the instructions of exactly `requests` requests. After the warm-up's last
 * scrape, `settle` more requests let V8 finish re-optimising (under valgrind that takes tens of thousands).
 */
async function count(target: Target, dir: string, options: { warmup: number; settle: number; requests: number }): Promise<number> {
  const scrape = async (): Promise<void> => {
    if (target.scrape) await (await fetch(target.base + target.scrape)).arrayBuffer();
  };
  await scrape();
  await drive(target.base, target.path, options.warmup);
  await scrape();
  await drive(target.base, target.path, options.settle);
  await callgrindControl(['--instr=on', String(target.child.pid)]);
  await drive(target.base, target.path, options.requests);
  await callgrindControl(['--instr=off', String(target.child.pid)]);
  await callgrindControl(['--dump', String(target.child.pid)]);
  await target.child.stop(10_000);
  return dumpedInstructions(dir, `${target.name}.`) / options.requests;
}

/** valgrind and its flags: callgrind, counting nothing until told to, dumps named after `name`. */
function callgrind(dir: string, name: string): string[] {
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, `${name}.%p`)}`];
}

/** Under valgrind a process starts 20-50 times slower. */
const READY_TIMEOUT_MS = 120_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      warmup: { type: 'string', default: '40000' },
      settle: { type: 'string', default: '60000' },
    },
  });
  if (!hasCommand('valgrind') || !hasCommand('callgrind_control')) {
    console.error('instructions: needs valgrind and callgrind_control on PATH (Debian: apt-get install valgrind)');
    process.exit(2);
  }
  installCleanup();
  const options = { requests: Number(values.requests), warmup: Number(values.warmup), settle: Number(values.settle) };
  const dir = mkdtempSync(join(tmpdir(), 'geecache-callgrind-'));
  // One at a time: valgrind runs every thread of its program on one core, and two would share the machine.
  const b = await startBaseline('baseline', [KEY], undefined, 0, [], { wrap: callgrind(dir, 'baseline'), readyTimeoutMs: READY_TIMEOUT_MS });
  const baseline = await count({ name: 'baseline', child: b.child, base: b.url, path: b.apiPath(KEY) }, dir, options);
  // The pod reads the same 100-byte value from the bench's origin, as in the api-hit case.
  const origin = await startOrigin();
  let pod: number;
  try {
    const cluster = await startCluster({
      name: 'geecache',
      pods: 1,
      groups: `bench:64MiB:${origin.url}`,
      cpus: undefined,
      wrap: (name) => callgrind(dir, name),
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    const a = cluster.pods[0]!;
    pod = await count({ name: a.name, child: a.child, base: a.http, path: a.apiPath(KEY), scrape: '/metrics' }, dir, options);
  } finally {
    await origin.close();
  }
  const format = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`user-space instructions per GET /api hit (${options.requests} requests, 100-byte value, ${CONNECTIONS} keep-alive connections)`);
  console.log(`  baseline (node:http + Map)  ${format(baseline)}`);
  console.log(`  geecache pod                ${format(pod)}  (${(pod / baseline).toFixed(3)}x)`);
  console.log(`callgrind dumps: ${dir} (callgrind_annotate <file>)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
