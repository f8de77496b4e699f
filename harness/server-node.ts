// server-node.ts says which node binary runs the servers the bench starts (pods and baselines), and finds the image's.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NODE24_SCRIPT = fileURLToPath(new URL('../../scripts/node24.sh', import.meta.url));

/** The node that runs the bench's servers; the node running the bench unless useServerNode() said otherwise. */
let serverNodePath = process.execPath;

export function serverNode(): string {
  return serverNodePath;
}

/** Makes every pod and baseline started from now on run on `path`. */
export function useServerNode(path: string): void {
  serverNodePath = path;
}

/** `image`: the Node major the Dockerfile ships; `current`: the node running the bench; else a path to a node binary. */
export type ServerNodeWanted = 'image' | 'current' | (string & {});

export interface ServerNodeChoice {
  path: string;
  /** e.g. v24.20.0 */
  version: string;
  /** One line for the log and the JSON: which node, and why that one. */
  note: string;
}

/**
 * Resolves `wanted` to a binary. For `image` it runs scripts/node24.sh (which downloads the image's Node
 * from the npm registry once, into .cache/node24/); when that fails, the servers run on the current node
 * and the note says so, since a bench on the wrong runtime is still worth more than none.
 */
export function resolveServerNode(wanted: ServerNodeWanted): ServerNodeChoice {
  if (wanted === 'current') return choice(process.execPath, 'the node running the bench (--node current)');
  if (wanted !== 'image') return choice(wanted, `--node ${wanted}`);
  try {
    const out = execFileSync('bash', [NODE24_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const path = out.trim().split('\n').pop() ?? '';
    return choice(path, "the image's Node (Dockerfile), from scripts/node24.sh");
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? err).trim().split('\n').pop();
    return choice(process.execPath, `NOT the image's Node: scripts/node24.sh failed (${stderr}); servers run on the bench's own node`);
  }
}

function choice(path: string, note: string): ServerNodeChoice {
  const version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  return { path, version, note };
}
