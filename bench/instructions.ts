// instructions.ts counts the user-space instructions per /api hit, under callgrind, for the baseline and a geecache pod.
//
// Usage: npm run build && node dist/bench/instructions.js [--requests 10000] [--warmup 40000] [--settle 60000]
// Needs valgrind (Debian: apt-get install valgrind). Not part of `npm run bench` or the tests: it takes a few minutes.
//
// Requests per second on a shared 2-core host vary by several percent from one run to the next, more than most
// single changes to the hit path are worth. An instruction count does not depend on the host's speed: repeated
// runs agree within about 2-3%, so a change of 1,000 instructions per request (2%) shows after two runs each.
// It leaves out the kernel (writev and read are about half of a hit's time) and cache misses.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS, POD_ENV } from '../src/node-flags.js';
import { MAIN_JS } from './cluster.js';
import { freePort, hasCommand, installCleanup, spawnChild, waitForOk, type Child } from './procs.js';

const CONNECTIONS = 50;
const KEY = 'Tom'; // in the demo source; the baseline is given the same 3-byte value

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
  name: string;
  child: Child;
  base: string;
  /** Requests a pod in service also gets (Prometheus scrapes), sent around the warm-up. */
  scrape?: string;
}

/**
 * Warms `target` up, then counts the instructions of exactly `requests` requests. After the warm-up's last
 * scrape, `settle` more requests let V8 finish re-optimising (under valgrind that takes tens of thousands).
 */
async function count(target: Target, dir: string, options: { warmup: number; settle: number; requests: number }): Promise<number> {
  const path = `/api?key=${KEY}`;
  const scrape = async (): Promise<void> => {
    if (target.scrape) await (await fetch(target.base + target.scrape)).arrayBuffer();
  };
  await scrape();
  await drive(target.base, path, options.warmup);
  await scrape();
  await drive(target.base, path, options.settle);
  await callgrindControl(['--instr=on', String(target.child.pid)]);
  await drive(target.base, path, options.requests);
  await callgrindControl(['--instr=off', String(target.child.pid)]);
  await callgrindControl(['--dump', String(target.child.pid)]);
  await target.child.stop(10_000);
  return dumpedInstructions(dir, `${target.name}.`) / options.requests;
}

function underCallgrind(dir: string, name: string, nodeArgs: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Child {
  const tool = ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, `${name}.%p`)}`];
  return spawnChild(name, 'valgrind', [...tool, process.execPath, ...nodeArgs], { env, onLine });
}

async function startBaseline(dir: string): Promise<Target> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./baseline-server.js', import.meta.url));
  const env = { ...process.env, BENCH_KEYS: KEY, BENCH_VALUE_BYTES: '3', BENCH_PORT: String(port) };
  const child = underCallgrind(dir, 'baseline', [script], env);
  const base = `http://127.0.0.1:${port}`;
  await waitForOk(`${base}/api?key=${KEY}`, child, 120_000);
  return { name: 'baseline', child, base };
}

async function startPod(dir: string): Promise<Target> {
  const [peerPort, httpPort] = await Promise.all([freePort(), freePort()]);
  const self = `http://127.0.0.1:${peerPort}`;
  const env: NodeJS.ProcessEnv = {
    ...POD_ENV,
    ...process.env,
    GEECACHE_PORT: String(peerPort),
    GEECACHE_HTTP_PORT: String(httpPort),
    GEECACHE_BIND: '127.0.0.1',
    GEECACHE_SELF: self,
    GEECACHE_PEERS: self,
    GEECACHE_DISCOVERY: 'static',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const child = underCallgrind(dir, 'geecache', [...NODE_FLAGS, MAIN_JS], env);
  const base = `http://127.0.0.1:${httpPort}`;
  await waitForOk(`${base}/api?key=${KEY}`, child, 120_000);
  return { name: 'geecache', child, base, scrape: '/metrics' };
}

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
  const baseline = await count(await startBaseline(dir), dir, options);
  const pod = await count(await startPod(dir), dir, options);
  const format = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`user-space instructions per GET /api hit (${options.requests} requests, 3-byte value, ${CONNECTIONS} keep-alive connections)`);
  console.log(`  baseline (node:http + Map)  ${format(baseline)}`);
  console.log(`  geecache pod                ${format(pod)}  (${(pod / baseline).toFixed(3)}x)`);
  console.log(`callgrind dumps: ${dir} (callgrind_annotate <file>)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
