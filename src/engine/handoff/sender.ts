// sender.ts hands a leaving process's cached values to their next owners, most recently used first, within a time and byte budget.
import type { ByteView } from '../byteview.js';
import type { GroupRegistry } from '../group-registry.js';
import type { PeerRing } from '../peer-ring.js';
import type { HandedValue } from '../peers.js';
import { PeerAdminError } from '../../errors.js';

export interface HandOffOptions {
  /** Stop starting new batches at this time (now()'s clock). */
  deadline: number;
  /** Stop once this many value bytes were sent. */
  maxBytes: number;
  /** Values per request, by bytes. Default 1 MiB (the receiver takes up to 8). */
  batchBytes?: number;
  now: () => number;
  /**
   * Waits before a batch is sent again that a peer refused because this process is still a
   * member in its view (409: it has not yet seen this pod leave). Absent: no second try.
   */
  wait?: (ms: number) => Promise<void>;
  /** Between such tries. Default 200 ms, about two discovery debounces. */
  retryMs?: number;
}

export interface HandOffReport {
  /** Values sent, and their bytes. */
  sent: number;
  bytes: number;
  /** Values the receivers stored (they refuse keys they do not own or already hold). */
  stored: number;
  /** Values in batches that failed (the receiver unreachable, or refusing handoffs). */
  failed: number;
  /** Why it stopped before the last value: the deadline or the byte budget. */
  cut?: 'time' | 'bytes';
}

/**
 * For every group, walks the main cache from the most recently used entry and sends each value
 * to the peer that owns its key once this process is gone (HandoffWindow.successorOf), in batches.
 * Batches go one at a time: a leaving pod should not crowd the peers that take over its load.
 */
export async function handOffOnLeave(groups: GroupRegistry, ring: PeerRing, options: HandOffOptions): Promise<HandOffReport> {
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const report: HandOffReport = { sent: 0, bytes: 0, stored: 0, failed: 0 };
  const clients = ring.peerClients();
  for (const group of groups.list()) {
    const pending = new Map<string, { values: HandedValue[]; bytes: number }>();
    const send = async (peer: string): Promise<void> => {
      const batch = pending.get(peer);
      if (!batch || batch.values.length === 0) return;
      pending.delete(peer);
      report.sent += batch.values.length;
      report.bytes += batch.bytes;
      for (;;) {
        try {
          report.stored += await clients.get(peer)!.handOff!(group.name, batch.values);
          return;
        } catch (err) {
          if (!(options.wait && stillAMember(err) && options.now() < options.deadline)) break;
          await options.wait(options.retryMs ?? 200);
        }
      }
      report.failed += batch.values.length;
    };
    for (const [key, value] of group.handoff.entries()) {
      if (options.now() >= options.deadline) report.cut = 'time';
      else if (report.bytes + queuedBytes(pending) + value.byteLength > options.maxBytes) report.cut = 'bytes';
      if (report.cut) break;
      const peer = ring.handoffWindow.successorOf(key);
      if (peer === undefined || !clients.get(peer)?.handOff) continue;
      let batch = pending.get(peer);
      if (!batch) pending.set(peer, (batch = { values: [], bytes: 0 }));
      batch.values.push(handed(key, value));
      batch.bytes += value.byteLength;
      if (batch.bytes >= batchBytes) await send(peer);
    }
    // What is queued when the budget runs out still goes: it was taken within the budget.
    for (const peer of [...pending.keys()]) await send(peer);
    if (report.cut) break;
  }
  return report;
}

/** A receiver takes handoffs only from peers that left its ring: it answers 409 while this process is still in it. */
function stillAMember(err: unknown): boolean {
  return err instanceof PeerAdminError && err.status === 409;
}

function queuedBytes(pending: Map<string, { bytes: number }>): number {
  let bytes = 0;
  for (const batch of pending.values()) bytes += batch.bytes;
  return bytes;
}

function handed(key: string, value: ByteView): HandedValue {
  return { key, value: value.toBytes(), expiresAt: value.expiresAt };
}
