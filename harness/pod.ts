// pod.ts names the compiled geecache entry point every test and bench process runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `node dist/src/main.js`: this file runs from dist/harness/. */
export const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** Whether the server has been built; without it the bench skips the geecache cases. */
export function serverBuilt(): boolean {
  return existsSync(MAIN_JS);
}
