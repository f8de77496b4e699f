// invalidation.ts removes a key (or a whole group's contents) on every peer of the ring, owner first.
import type { Group } from './group.js';
import type { PeerRing } from './peer-ring.js';

/** What telling the other peers came to. */
export interface InvalidationReport {
  /** Other peers in the ring when the invalidation started. */
  peers: number;
  reached: number;
  unreached: Array<{ peer: string; error: string }>;
}

/**
 * Invalidates `key` (or, without one, every key of the group) here and on every other peer.
 *
 * The key's owner is told before anyone else: once it has dropped its copy, whatever another
 * pod fetches from it is fresh, and a fetch that was already on its way is overtaken by that
 * pod's own invalidation (Group.remove() forgets it). A peer that cannot be told keeps its copy
 * until it expires, and the report names it.
 */
export async function invalidateEverywhere(group: Group, ring: PeerRing, key: string | undefined): Promise<InvalidationReport> {
  const clients = [...ring.peerClients()];
  const report: InvalidationReport = { peers: clients.length, reached: 0, unreached: [] };
  const tell = async ([peer, client]: (typeof clients)[number]): Promise<void> => {
    try {
      if (!client.invalidate) throw new Error('this peer client cannot invalidate');
      await client.invalidate(group.name, key);
      report.reached++;
    } catch (err) {
      report.unreached.push({ peer, error: err instanceof Error ? err.message : String(err) });
    }
  };
  const here = () => (key === undefined ? group.reset() : void group.remove(key));
  const owner = key === undefined ? undefined : ring.ownerOf(key);
  const ownerClient = clients.find(([peer]) => peer === owner);
  if (ownerClient) await tell(ownerClient);
  here();
  await Promise.all(clients.filter((entry) => entry !== ownerClient).map(tell));
  return report;
}
