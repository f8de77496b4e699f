// A cache node in this process: registry, pool and a real peer server on 127.0.0.1, for engine tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GroupRegistry, type Group } from '../../src/engine/group.js';
import { PeerPool } from '../../src/engine/peer-ring.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerHandler } from '../../src/http/peer-handler.js';
import { NotFoundError } from '../../src/errors.js';

export interface PeerNode {
  url: string;
  pool: PeerPool;
  group: Group;
  /** Keys this node's getter was called for, in order. */
  loads: string[];
  server: Server;
  close(): Promise<void>;
}

export async function startPeerNode(data: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<PeerNode> {
  const registry = new GroupRegistry();
  const server = createServer(createPeerHandler({ registry, basePath: '/_geecache/' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new PeerPool({
    self: url,
    createClient: (peer) => new HttpPeerClient({ url: peer, timeoutMs: options.timeoutMs ?? 1000 }),
  });
  const loads: string[] = [];
  const getter = async (key: string) => {
    loads.push(key);
    await new Promise((r) => setTimeout(r, 5));
    const value = data[key];
    if (value === undefined) throw new NotFoundError(`${key} not exist`);
    return value;
  };
  const group = registry.create({ name: 'scores', cacheBytes: 1 << 20, getter, peers: pool });
  let closed = false;
  return {
    url,
    pool,
    group,
    loads,
    server,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
    },
  };
}
