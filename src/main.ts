#!/usr/bin/env node
// main.ts runs one cache process: reads the environment and flags, starts the node, handles signals.
import { fileURLToPath } from 'node:url';
import { CacheNode } from './cache-node.js';
import { loadConfig, usage } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './ops/log.js';

const EXIT_CONFIG = 2;

/** Runs the process. */
export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n');
    return;
  }
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`geecache: invalid configuration: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, base: { self: config.self } });

  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception, exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

  let node: CacheNode;
  try {
    node = new CacheNode({ config, logger });
  } catch (err) {
    // The constructor throws only for settings it cannot use.
    process.stderr.write(`geecache: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_CONFIG);
  }

  // Node is PID 1 in the container: nothing else turns SIGTERM into an exit.
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  try {
    await node.start();
  } catch (err) {
    // Settings that only fail when used (a kubeconfig that cannot be read, no namespace) are configuration errors too.
    if (err instanceof ConfigError) {
      process.stderr.write(`geecache: cannot start: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    logger.fatal({ err }, 'cannot start');
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
