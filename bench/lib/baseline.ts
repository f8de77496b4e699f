// baseline.ts starts baseline-server.js as a pinned child process and hands back its URL.
import { fileURLToPath } from 'node:url';
import { spawnChild, type Child } from '../../harness/child.js';
import { waitForOk } from '../../harness/wait.js';
import { serverNode } from '../../harness/server-node.js';

export interface Baseline {
  readonly url: string;
  readonly child: Child;
  /** Path and query of `GET /api?key=<key>`. */
  apiPath(key: string): string;
}

/** How to run the baseline's node: under another command (e.g. valgrind), and how long it may take to answer. */
export interface BaselineLaunch {
  wrap?: string[];
  /** Default 5 s. */
  readyTimeoutMs?: number;
  /** More environment for the server (e.g. BENCH_VALUE_BYTES, BENCH_BODY). */
  env?: Record<string, string>;
}

/** Starts the plain node:http + Map server holding `keys` (values from values.ts) on `cpus`, answering after `delayMs` (default 0). */
export async function startBaseline(
  name: string,
  keys: readonly string[],
  cpus: string | undefined,
  delayMs = 0,
  nodeArgs: string[] = [],
  launch: BaselineLaunch = {},
): Promise<Baseline> {
  let resolvePort: (port: number) => void = () => {};
  const portLine = new Promise<number>((resolve) => (resolvePort = resolve));
  const child = spawnChild(name, serverNode(), [...nodeArgs, fileURLToPath(new URL('../children/baseline-server.js', import.meta.url))], {
    cpus,
    wrap: launch.wrap,
    env: { ...process.env, ...launch.env, BENCH_KEYS: keys.join(','), BENCH_DELAY_MS: String(delayMs) },
    onLine: (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match?.[1]) resolvePort(Number(match[1]));
    },
  });
  const port = await Promise.race([portLine, child.exited.then((code) => `exited with ${code}`)]);
  if (typeof port === 'string') throw new Error(`${name} ${port}\n${child.tail()}`);
  const url = `http://127.0.0.1:${port}`;
  const apiPath = (key: string): string => `/api?key=${encodeURIComponent(key)}`;
  await waitForOk(url + apiPath(keys[0] ?? ''), child, launch.readyTimeoutMs ?? 5000);
  return { url, child, apiPath };
}
