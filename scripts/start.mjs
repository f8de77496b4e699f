#!/usr/bin/env node
// `npm start`: installs dependencies and builds when needed, then runs the local three-peer cluster.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ensureDeps, run } from './ensure-deps.mjs';

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

ensureDeps();
const entry = 'dist/src/local-cluster.js';
if (!existsSync(entry) || statSync(entry).mtimeMs < newestMtime('src')) {
  // Only src/: the tests and benchmarks are not needed to run the cluster.
  console.error('building (tsc) ...');
  run('npx', ['tsc', '-p', 'tsconfig.build.json']);
}
const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
// Ctrl-C reaches this process group (and npm passes a SIGINT on to us as well): the cluster passes
// it on to its peers once, and we wait for it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 1));
