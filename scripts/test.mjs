#!/usr/bin/env node
// `npm test`: installs dependencies when needed, lints, builds, then runs every test (or those matching the arguments).
import { ensureDeps, run } from './ensure-deps.mjs';

ensureDeps();
run('npx', ['eslint', '.']);
run('npx', ['tsc', '-p', 'tsconfig.json']);
run(process.execPath, ['scripts/run-tests.mjs', ...process.argv.slice(2)]);
