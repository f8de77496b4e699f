// local-cluster.ts is `npm start`: three cache processes on this machine, the third fronting the API on 9999.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { NODE_FLAGS, POD_ENV } from './memory/node-flags.js';

export interface LocalClusterOptions {
  peerPorts: number[];
  httpPorts: number[];
  /** Environment for every peer; GEECACHE_* settings pass through except ports, self, peers and discovery. */
  env: NodeJS.ProcessEnv;
  host: string;
}

const OWN_SETTINGS = ['GEECACHE_PORT', 'GEECACHE_HTTP_PORT', 'GEECACHE_SELF', 'GEECACHE_PEERS', 'GEECACHE_DISCOVERY', 'GEECACHE_BIND'];

function parsePorts(flag: string, text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const ports = text.split(',').map((p) => Number(p.trim()));
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new Error(`${flag}: expected comma-separated ports, got ${JSON.stringify(text)}`);
  }
  return ports;
}

export function parseArgs(argv: readonly string[]): { peerPorts: number[]; httpPorts: number[] } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (flag !== '--peer-ports' && flag !== '--http-ports') throw new Error(`unknown argument ${flag} (use --peer-ports a,b,c --http-ports x,y,z)`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    values.set(flag, value);
  }
  const peerPorts = parsePorts('--peer-ports', values.get('--peer-ports'), [8001, 8002, 8003]);
  const httpPorts = parsePorts('--http-ports', values.get('--http-ports'), [9001, 9002, 9999]);
  if (peerPorts.length !== httpPorts.length || peerPorts.length === 0) {
    throw new Error('--peer-ports and --http-ports must list the same number of ports');
  }
  return { peerPorts, httpPorts };
}

/** Starts the peers; resolves when every one has exited. Rejects never: exit codes are reported. */
export function runLocalCluster(options: LocalClusterOptions): { stop: (signal?: NodeJS.Signals) => void; done: Promise<number> } {
  const mainJs = fileURLToPath(new URL('./main.js', import.meta.url));
  const peers = options.peerPorts.map((port) => `http://${options.host}:${port}`);
  const passThrough = Object.fromEntries(Object.entries(options.env).filter(([name]) => !OWN_SETTINGS.includes(name)));
  const children: ChildProcess[] = [];
  let stopping = false;
  let worstExit = 0;

  // Each call passes the signal on once: a second Ctrl-C reaches the peers as a second signal, which exits them at once.
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };

  const exits = options.peerPorts.map((port, i) => {
    const name = `peer${i + 1}`;
    const child = spawn(process.execPath, [...NODE_FLAGS, mainJs], {
      env: {
        LOG_FORMAT: 'pretty',
        ...POD_ENV,
        ...passThrough,
        GEECACHE_PORT: String(port),
        GEECACHE_HTTP_PORT: String(options.httpPorts[i]),
        GEECACHE_BIND: options.host,
        GEECACHE_SELF: peers[i],
        GEECACHE_PEERS: peers.join(','),
        GEECACHE_DISCOVERY: 'static',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches this process alone, which passes it on once.
      // In ours, every peer would get the terminal's SIGINT and then ours, and take the second for "exit at once".
      detached: true,
    });
    children.push(child);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    }
    return new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        const status = code ?? (signal ? 1 : 0);
        if (!stopping) {
          process.stdout.write(`[${name}] exited (${signal ?? `code ${code}`}); stopping the other peers\n`);
          worstExit = Math.max(worstExit, status || 1);
          stop();
        } else {
          worstExit = Math.max(worstExit, status);
        }
        resolve();
      });
    });
  });
  return { stop, done: Promise.all(exits).then(() => worstExit) };
}

async function main(): Promise<void> {
  let ports;
  try {
    ports = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`local-cluster: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const host = '127.0.0.1';
  const cluster = runLocalCluster({ ...ports, env: process.env, host });
  const api = ports.httpPorts[ports.httpPorts.length - 1];
  process.stdout.write(
    `geecache local cluster: ${ports.peerPorts.length} peers (peer ports ${ports.peerPorts.join(', ')}; HTTP ports ${ports.httpPorts.join(', ')})\n` +
      `  try: curl "http://localhost:${api}/api?key=Tom"   metrics: http://localhost:${api}/metrics   Ctrl-C stops all\n`,
  );
  // The peers are in their own process groups (see runLocalCluster): nothing reaches them but what is passed on here.
  process.on('SIGINT', () => cluster.stop('SIGINT'));
  process.on('SIGTERM', () => cluster.stop('SIGTERM'));
  process.on('SIGHUP', () => cluster.stop('SIGTERM'));
  // Should this process die of an error, the peers, outside its group, are not left running.
  process.on('exit', () => cluster.stop('SIGTERM'));
  process.exit(await cluster.done);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
