// batch-queue.ts gathers the keys asked of one peer in a turn of the event loop, so they go as one batch.
import type { PeerValue } from '../../engine/peers.js';
import { MAX_BATCH_KEYS } from '../../protocol/batch.js';

/** A caller waiting for one key of a batch. */
export interface Waiting {
  key: string;
  resolve: (value: PeerValue) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

export interface BatchSenders {
  /** Asks for one key alone. */
  one(group: string, key: string): Promise<PeerValue>;
  /** Asks for up to MAX_BATCH_KEYS keys in one request. */
  batch(group: string, waiting: Waiting[]): void;
}

export class BatchQueue {
  /** False once the peer showed it does not answer batches: every key then goes alone. */
  batching: boolean;
  private readonly send: BatchSenders;
  /** Keys asked for in this turn of the event loop, by group; sent by flush() in setImmediate. */
  private queued = new Map<string, Waiting[]>();
  private flushScheduled = false;

  constructor(send: BatchSenders, batching: boolean) {
    this.send = send;
    this.batching = batching;
  }

  /** Resolves with the key's value once the batch (or single GET) it went in is answered. */
  enqueue(group: string, key: string): Promise<PeerValue> {
    return new Promise((resolve, reject) => {
      let waiting = this.queued.get(group);
      if (!waiting) this.queued.set(group, (waiting = []));
      waiting.push({ key, resolve, reject, settled: false });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the poll phase, so every request read from the sockets in this
        // turn has asked by then: under load one peer request carries many keys (docs/performance.md).
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = new Map();
    for (const [group, waiting] of queued) {
      if (waiting.length === 1 || !this.batching) {
        for (const one of waiting) this.send.one(group, one.key).then(one.resolve, one.reject);
        continue;
      }
      for (let i = 0; i < waiting.length; i += MAX_BATCH_KEYS) this.send.batch(group, waiting.slice(i, i + MAX_BATCH_KEYS));
    }
  };
}
