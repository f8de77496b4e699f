// receiver.ts decides which handed values this process takes: from whom (a member, at its own address), and which keys.
import type { HandedValue } from '../peers.js';
import type { GroupHandoff } from './group-handoff.js';

/** Who may hand values to this process, and which of them it keeps (HandoffWindow implements it). */
export interface HandoffMembership {
  /** Whether `sender` (a peer URL) may hand values here: a member, or a peer that just left. */
  acceptsHandoffFrom(sender: string): boolean;
  /** Whether this process owns `key` in the ring without `sender`. */
  ownsWithout(sender: string, key: string): boolean;
}

/**
 * Whether a handoff that names `sender` as its peer URL, arriving from `remoteAddress`, is taken:
 * the URL must be a peer's the membership accepts, and name the address the request came from.
 */
export function acceptsSender(sender: unknown, remoteAddress: string | undefined, membership: HandoffMembership): sender is string {
  return typeof sender === 'string' && sentFrom(sender, remoteAddress) && membership.acceptsHandoffFrom(sender);
}

/** Stores the values `sender` handed to one group that this process owns without it; returns how many were stored. */
export function receiveHanded(group: GroupHandoff, sender: string, values: readonly HandedValue[], membership: HandoffMembership): number {
  let stored = 0;
  for (const value of values) if (group.store(value, (key) => membership.ownsWithout(sender, key))) stored++;
  return stored;
}

/** Whether a peer URL names the address a request came from (IPv4-mapped and bracketed forms compared plainly). */
function sentFrom(peer: string, remoteAddress: string | undefined): boolean {
  let host: string;
  try {
    host = new URL(peer).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  const remote = (remoteAddress ?? '').replace(/^::ffff:/, '');
  return host === remote;
}
