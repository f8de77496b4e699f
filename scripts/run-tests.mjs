#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Listing files ourselves works the same on Node 20, 22 and 24, whose --test
// argument handling differs. Optional arguments filter files by substring.
// --k8s runs the real-cluster suite (dist/test/k8s/, which needs scripts/test-k8s.mjs's cluster) instead
// of the rest; --concurrency=N runs at most N files at once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function listTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...listTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const k8s = flags.includes('--k8s');
const concurrency = flags.find((f) => f.startsWith('--concurrency='))?.slice('--concurrency='.length);
const inK8sSuite = (f) => f.split(/[/\\]/).slice(0, 3).join('/') === 'dist/test/k8s';
// A compiled test whose source was moved or deleted stays in dist/ until it is cleaned: skip it.
const hasSource = (f) => existsSync(f.replace(/^dist[/\\]/, '').replace(/\.js$/, '.ts'));
const files = listTests('dist/test')
  .filter(hasSource)
  .filter((f) => inK8sSuite(f) === k8s)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'dist/test'}`);
  process.exit(1);
}
const runner = ['--enable-source-maps', '--test', ...(concurrency ? [`--test-concurrency=${concurrency}`] : [])];
const result = spawnSync(process.execPath, [...runner, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
