// log.ts makes the process logger: JSON lines for machines, or a readable form for local runs.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Fields on every line, e.g. the peer's name. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = { level: options.level, base: { ...options.base }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.format === 'pretty') {
    // Synchronous pretty stream: no worker thread, and lines are not lost at exit.
    return pino(settings, pretty({ colorize: process.stdout.isTTY, sync: true, singleLine: true, ignore: 'pid,hostname,self' }));
  }
  return pino(settings);
}
