// proc-stat.ts reads CPU time and memory of processes from /proc (Linux), so the bench can tell who was the bottleneck.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS = clockTicksPerSecond();

interface StatTimes {
  /** utime + stime of the process itself, in seconds. */
  self: number;
  /** cutime + cstime: CPU of children already reaped by this process, in seconds. */
  children: number;
}

function readStat(pid: number | 'self'): StatTimes | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; fields after its closing ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After ')': state is field 3, so utime (14) is index 11, stime 12, cutime 13, cstime 14.
  const n = (i: number): number => Number(fields[i] ?? 0);
  return { self: (n(11) + n(12)) / TICKS, children: (n(13) + n(14)) / TICKS };
}

/** CPU seconds (user + system) used so far by `pid`, or undefined if it is gone or /proc is missing. */
export function cpuSeconds(pid: number): number | undefined {
  return readStat(pid)?.self;
}

/** CPU seconds of this process's children that have exited and been reaped. */
export function reapedChildrenCpuSeconds(): number | undefined {
  return readStat('self')?.children;
}

/** Sum of cpuSeconds over `pids`; undefined when any cannot be read. */
export function totalCpuSeconds(pids: readonly number[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const s = cpuSeconds(pid);
    if (s === undefined) return undefined;
    sum += s;
  }
  return sum;
}

export interface MemoryUsage {
  /** Resident set size now, bytes (VmRSS). */
  rss: number;
  /** Peak resident set size, bytes (VmHWM). */
  peakRss: number;
}

/** RSS of `pid` from /proc/<pid>/status, or undefined. */
export function memoryOf(pid: number): MemoryUsage | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] ? Number(match[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

export interface MachineCpu {
  /** CPU seconds all cores spent busy (user, nice, system, irq, softirq), summed over cores. */
  busy: number;
  /** CPU seconds the hypervisor gave to someone else while we wanted to run. */
  steal: number;
}

/** Machine-wide CPU time from /proc/stat, to spot load that is neither ours nor the generator's. */
export function machineCpuSeconds(): MachineCpu | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const fields = (text.split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const n = (i: number): number => fields[i] ?? 0;
  // user nice system idle iowait irq softirq steal
  return { busy: (n(0) + n(1) + n(2) + n(5) + n(6)) / TICKS, steal: n(7) / TICKS };
}
