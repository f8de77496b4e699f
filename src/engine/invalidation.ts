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
  const here = () => (key === undefined ? group.reset() : void group.remove(key));
  const owner = key === undefined ? undefined : ring.ownerOf(key);
  const ownerClient = owner === undefined ? undefined : ring.peerClients().get(owner);
  if (!ownerClient) {
    here();
    return invalidateOthers(group, ring, key, () => true);
  }
  const report = await invalidateOthers(group, ring, key, (peer) => peer === owner);
  here();
  const rest = await invalidateOthers(group, ring, key, (peer) => peer !== owner);
  return { peers: report.peers + rest.peers, reached: report.reached + rest.reached, unreached: [...report.unreached, ...rest.unreached] };
}

/** Tells the other peers that `which` picks, all at once, to invalidate `key` (every key without one), here not included. */
export async function invalidateOthers(group: Group, ring: PeerRing, key: string | undefined, which: (peer: string) => boolean): Promise<InvalidationReport> {
  const clients = [...ring.peerClients()].filter(([peer]) => which(peer));
  const report: InvalidationReport = { peers: clients.length, reached: 0, unreached: [] };
  await Promise.all(
    clients.map(async ([peer, client]) => {
      try {
        if (!client.invalidate) throw new Error('this peer client cannot invalidate');
        await client.invalidate(group.name, key);
        report.reached++;
      } catch (err) {
        report.unreached.push({ peer, error: err instanceof Error ? err.message : String(err) });
      }
    }),
  );
  return report;
}
