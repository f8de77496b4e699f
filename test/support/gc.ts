// gc.ts gives tests a real full GC, though node --test starts them without --expose-gc.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's gc function, from a fresh context created after turning --expose-gc on. */
export function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects until `done()` or 50 tries: FinalizationRegistry callbacks run after the GC, as a task. */
export async function collectUntil(done: () => boolean): Promise<void> {
  const gc = fullGc();
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
