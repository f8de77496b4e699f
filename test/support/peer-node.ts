// A cache node in this process: groups, peer ring and a real peer server on 127.0.0.1, for engine tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Group } from '../../src/engine/group.js';
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { HttpPeerClient } from '../../src/http/peer-client.js';
import { createPeerHandler } from '../../src/http/peer-handler.js';
import { adminCheck } from '../../src/http/admin-auth.js';
import { NotFoundError } from '../../src/errors.js';

export interface PeerNode {
  url: string;
  ring: PeerRing;
  groups: GroupRegistry;
  group: Group;
  /** Keys this node's getter was called for, in order. */
  loads: string[];
  server: Server;
  close(): Promise<void>;
}

export async function startPeerNode(
  data: Record<string, string>,
  options: { timeoutMs?: number; latencyMs?: number; adminToken?: string; handoffWindowMs?: number } = {},
): Promise<PeerNode> {
  const groups = new GroupRegistry();
  // The ring is made once the port is known: the handler only calls these after that.
  const handoff = { handoffRefusal: (sender: string) => ring.handoffWindow.handoffRefusal(sender), ownsWithout: (sender: string, key: string) => ring.handoffWindow.ownsWithout(sender, key) };
  const server = createServer(createPeerHandler({ groups, basePath: '/_geecache/', adminCheck: adminCheck(options.adminToken), handoff }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ring: PeerRing = new PeerRing({
    self: url,
    handoffWindowMs: options.handoffWindowMs,
    createClient: (peer) => new HttpPeerClient({ url: peer, timeoutMs: options.timeoutMs ?? 1000, adminToken: options.adminToken, self: url }),
  });
  const loads: string[] = [];
  const getter = async (key: string) => {
    loads.push(key);
    await new Promise((r) => setTimeout(r, options.latencyMs ?? 5));
    const value = data[key];
    if (value === undefined) throw new NotFoundError(`${key} not exist`);
    return value;
  };
  const group = groups.create({ name: 'scores', cacheBytes: 1 << 20, getter, peers: ring });
  let closed = false;
  return {
    url,
    ring,
    groups,
    group,
    loads,
    server,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ring.close();
    },
  };
}
