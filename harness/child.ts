// child.ts starts the child processes of the bench and the multi-process tests (optionally pinned to a core, under a wrapper)
// and makes sure every one of them dies with the process that started it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { serverNode } from './server-node.js';

/** How many recent output lines of each child we keep to explain a failure, unless the caller asks for more. */
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
  /** Output lines kept for tail(). Default 40. */
  keepLines?: number;
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
  killLeftoversOnExit();
  const keepLines = options.keepLines ?? TAIL_LINES;

  // BENCH_CHILD_LOGS=<dir>: every line each child writes, with ms since the bench started (e.g. with
  // BENCH_NODE_ARGS=--trace-gc, to line GC up with a round's latency).
  const logDir = process.env.BENCH_CHILD_LOGS;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const logFile: WriteStream | undefined = logDir ? createWriteStream(join(logDir, `${name}.log`), { flags: 'a' }) : undefined;
  const lines: string[] = [];
  const keep = (line: string): void => {
    logFile?.write(`${Math.round(performance.now())} ${line}\n`);
    lines.push(line);
    if (lines.length > keepLines) lines.shift();
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

let exitHook = false;
/** Whatever happens to the parent (a failed test, a thrown error), no child outlives it. */
function killLeftoversOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', killAllNow);
}

let installed = false;
/** Also stops every child on Ctrl-C, SIGTERM and SIGHUP. Call once from a bench entry point. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  killLeftoversOnExit();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping ${live.size} child process(es)`);
      void stopAll(500).finally(() => process.exit(130));
    });
  }
}
