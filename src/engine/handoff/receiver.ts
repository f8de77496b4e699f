// receiver.ts decides which handed values this process takes: from whom (a peer that is leaving, at its own address), and which keys.
import type { HandedValue } from '../peers.js';
import type { GroupHandoff } from './group-handoff.js';

/** Who may hand values to this process, and which of them it keeps (HandoffWindow implements it). */
export interface HandoffMembership {
  /**
   * Why `sender` (a peer URL) may not hand values here now, or undefined when it may (a peer that
   * left within the window). 'member': still in the ring here, not leaving yet in this view.
   */
  handoffRefusal(sender: string): 'member' | 'unknown' | undefined;
  /** Whether this process owns `key` in the ring without `sender`. */
  ownsWithout(sender: string, key: string): boolean;
}

/**
 * Why a handoff refused: no sender named, sent from another address than the sender's, the
 * sender still a member here (it may retry once this pod saw it leave), or no peer that left.
 */
export const SENDER_REFUSALS = ['no-sender', 'wrong-address', 'not-leaving', 'not-a-peer'] as const;
export type SenderRefusal = (typeof SENDER_REFUSALS)[number];

/**
 * Why a handoff that names `sender` as its peer URL, arriving from `remoteAddress`, is refused, or
 * undefined when it is taken: the URL must name the address the request came from, and a peer
 * that left within the handoff window. A member that has not left could plant values in a stable
 * ring; the address check alone cannot tell it from a sidecar sharing its IP (the peer token can).
 */
export function senderRefusal(sender: unknown, remoteAddress: string | undefined, membership: HandoffMembership): SenderRefusal | undefined {
  if (typeof sender !== 'string') return 'no-sender';
  if (!sentFrom(sender, remoteAddress)) return 'wrong-address';
  const refusal = membership.handoffRefusal(sender);
  if (refusal === 'member') return 'not-leaving';
  return refusal === undefined ? undefined : 'not-a-peer';
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
