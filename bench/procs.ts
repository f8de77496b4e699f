// procs.ts starts the benchmark's child processes pinned to a core and makes sure every one of them dies with the bench.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { serverNode } from './server-node.js';

/** How many recent output lines of each child we keep to explain a failure. */
const TAIL_LINES = 40;

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last lines the child wrote to stdout and stderr. */
  tail(): string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2000); resolves when it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether `taskset` is on PATH; without it nothing is pinned (and the output says so). */
export const hasTaskset = hasCommand('taskset');
export const hasWrk = hasCommand('wrk');

/**
 * Pins an already running process (e.g. this one), every thread of it, to `cpus`; a no-op without
 * taskset. Without -a only the main thread moves, and V8's helper threads (GC) stay free to run on
 * the servers' core.
 */
export function pinProcess(pid: number, cpus: string | undefined): void {
  if (!hasTaskset || cpus === undefined) return;
  execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
}

export interface SpawnOptions {
  /** CPU list for `taskset -c` (e.g. "0"); undefined leaves the child unpinned. */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with every complete stdout line (the child's protocol, e.g. "listening on"). */
  onLine?: (line: string) => void;
  /** A command, with its arguments, that `command` runs under (e.g. valgrind). Default: none. */
  wrap?: readonly string[];
}

/**
 * Spawns `command args`, under `wrap` if given (through `taskset -c cpus`, which execs, so the pid
 * is the first program's: the wrapper's, else the command's).
 */
export function spawnChild(name: string, command: string, givenArgs: string[], options: SpawnOptions = {}): Child {
  // BENCH_NODE_ARGS="--trace-gc …": extra flags for every node child (NODE_OPTIONS refuses some, e.g. --trace-gc).
  const extra = command === process.execPath || command === serverNode() ? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
  const [program, ...args] = [...(options.wrap ?? []), command, ...extra, ...givenArgs];
  const pinned = hasTaskset && options.cpus !== undefined;
  const proc = pinned
    ? spawn('taskset', ['-c', options.cpus!, program!, ...args], { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(program!, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);

  // BENCH_CHILD_LOGS=<dir>: every line each child writes, with ms since the bench started (e.g. with
  // BENCH_NODE_ARGS=--trace-gc, to line GC up with a round's latency).
  const logDir = process.env.BENCH_CHILD_LOGS;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const logFile: WriteStream | undefined = logDir ? createWriteStream(join(logDir, `${name}.log`), { flags: 'a' }) : undefined;
  const lines: string[] = [];
  const keep = (line: string): void => {
    logFile?.write(`${Math.round(performance.now())} ${line}\n`);
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  let partial = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      keep(line);
      options.onLine?.(line);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line) keep(line);
  });

  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => {
      if (partial) {
        keep(partial);
        options.onLine?.(partial);
        partial = '';
      }
      logFile?.end();
      resolve(code ?? signal ?? 'unknown');
    });
    proc.on('error', (err) => {
      keep(`spawn error: ${err.message}`);
      resolve('spawn-error');
    });
  });

  let stopping: Promise<void> | undefined;
  const child: Child = {
    name,
    pid: proc.pid,
    process: proc,
    tail: () => lines.join('\n'),
    exited,
    stop(graceMs = 2000) {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        live.delete(child);
      })();
      return stopping;
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

/** Stops every child still running (SIGTERM, then SIGKILL). */
export async function stopAll(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(graceMs)));
}

/** Last resort on exit: SIGKILL synchronously whatever is left. */
function killAllNow(): void {
  for (const child of live) {
    try {
      child.process.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

let installed = false;
/** Kills every child on exit, Ctrl-C, SIGTERM and uncaught errors. Call once from the entry point. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping ${live.size} child process(es)`);
      void stopAll(500).finally(() => process.exit(130));
    });
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `url` until it answers 200, the child exits, or `timeoutMs` passes.
 * Throws with the child's last output so a failed start explains itself.
 */
export async function waitForOk(url: string, child: Child | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void child?.exited.then((code) => (exitedWith = code));
  let last = '';
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(50);
  }
  const why = exitedWith !== undefined ? `exited with ${exitedWith}` : `not ready after ${timeoutMs} ms (${last})`;
  throw new Error(`${child?.name ?? url}: ${why}\n--- last output ---\n${child?.tail() ?? ''}`);
}
