// set-everywhere.ts stores a value on its key's owner and drops every other peer's copy, the way
// invalidation.ts removes one: owner first, then the rest.
import type { Group, SetOptions } from './group.js';
import { invalidateOthers, type InvalidationReport } from './invalidation.js';
import type { PeerRing } from './peer-ring.js';

/** Where a set went: the owner that stores the value, and how telling the others went. */
export interface SetReport extends InvalidationReport {
  /** The peer URL of the key's owner (this process's own when it owns the key). */
  owner: string;
}

/**
 * Sets `key` of `group` to `value` on its owner, then invalidates it everywhere else.
 *
 * The owner stores it first (Group.set there forgets its loads in flight, so none overwrites it).
 * Only then are the others told to drop their copies: a fetch from the owner already on its way to
 * one of them is forgotten by that invalidation, and whatever is fetched after it is the new value.
 * Rejects, having changed nothing elsewhere, when the owner cannot store it (unreachable, or not a
 * geecache peer).
 */
export async function setEverywhere(group: Group, ring: PeerRing, key: string, value: Uint8Array, options: SetOptions = {}): Promise<SetReport> {
  const owner = ring.ownerOf(key) ?? ring.self;
  const ownerClient = owner === ring.self ? undefined : ring.peerClients().get(owner);
  if (ownerClient) {
    if (!ownerClient.set) throw new Error(`the client of ${owner} cannot set values`);
    await ownerClient.set(group.name, key, value, options);
    // This process holds at most a hot copy, or a fetch in flight: both go.
    group.remove(key);
  } else {
    group.set(key, value, options);
  }
  const report = await invalidateOthers(group, ring, key, (peer) => peer !== owner);
  return { owner, ...report };
}
