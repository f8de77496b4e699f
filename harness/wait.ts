// wait.ts holds the pauses and polls every test and bench uses: sleep, wait for a condition, wait for a 200.
import type { Child } from './child.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Polls `url` until it answers 200, the child exits, or `timeoutMs` passes.
 * Throws with the child's last output so a failed start explains itself.
 */
export async function waitForOk(url: string, child: Child | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void child?.exited.then((code) => (exitedWith = code));
  let last = '';
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(50);
  }
  const why = exitedWith !== undefined ? `exited with ${exitedWith}` : `not ready after ${timeoutMs} ms (${last})`;
  throw new Error(`${child?.name ?? url}: ${why}\n--- last output ---\n${child?.tail() ?? ''}`);
}
