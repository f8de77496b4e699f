// ports.ts finds free TCP ports on loopback addresses, by binding port 0 and letting go, for every process the tests and the bench start.
import { createServer, type Server } from 'node:net';

/** A port that was free a moment ago on `host` (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

function listenOn(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

const closeAll = (servers: Server[]) => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));

/**
 * A port that is free on every one of `hosts` right now (each pod of a test cluster
 * listens on the same port at its own address), other than those in `avoid`.
 */
export async function freePortOnAll(hosts: readonly string[], avoid: readonly number[] = []): Promise<number> {
  const [first, ...rest] = hosts;
  if (first === undefined) throw new TypeError('freePortOnAll: no hosts');
  for (let attempt = 0; attempt < 50; attempt++) {
    const held: Server[] = [];
    const probe = await listenOn(first, 0);
    if (!probe) continue;
    held.push(probe);
    const port = (probe.address() as { port: number }).port;
    let free = !avoid.includes(port);
    for (const host of rest) {
      if (!free) break;
      const server = await listenOn(host, port);
      if (server) held.push(server);
      else free = false;
    }
    await closeAll(held);
    if (free) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} after 50 tries`);
}
