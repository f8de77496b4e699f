// processes.ts runs one node child for tests of the command line (exit codes, exact output); rings of pods are in harness/.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or 128+n for a signal). */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number>;
}

export function startProcess(args: string[], options: SpawnOptions = {}): Proc {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return {
    child,
    output: () => output,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
