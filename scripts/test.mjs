#!/usr/bin/env node
// `npm test`: installs dependencies when needed, lints, builds (the bench too, so it cannot rot), then runs every test (or those matching the arguments).
import { ensureDeps, run } from './ensure-deps.mjs';

ensureDeps();
run('npx', ['eslint', '.']);
run('npx', ['tsc', '-p', 'tsconfig.json']);
run('npx', ['tsc', '-p', 'bench/tsconfig.json']);
run(process.execPath, ['scripts/run-tests.mjs', ...process.argv.slice(2)]);
