// batch-get.ts asks a peer for many keys in one POST and settles each key's caller as its frame arrives.
import type { Dispatcher } from 'undici';
import type { PeerValue } from '../../engine/peers.js';
import { PeerUnavailableError } from '../../errors.js';
import { BATCH_CONTENT_TYPE, batchPath, encodeKeys, FrameReader, META_FORMAT, META_HEADER } from '../../protocol/batch.js';
import { BodyCollector } from '../read-body.js';
import { frameAnswer, unavailable } from './answers.js';
import type { Waiting } from './batch-queue.js';
import { newExchange, type PeerLink } from './exchange.js';

/** What to do when the peer turns out not to answer batches. */
export interface NotBatching {
  /** Asks for one key alone. */
  one(group: string, key: string): Promise<PeerValue>;
  /** The peer answers no batches: send it none from now on. */
  stopBatching(): void;
}

/** POST <basePath><group>/ with the keys of `waiting` as one exchange. */
export function getBatch(peer: PeerLink, group: string, waiting: Waiting[], fallback: NotBatching): void {
  const reader = new FrameReader();
  const body = new BodyCollector(peer.maxResponseBytes, 'response');
  const { exchanges } = peer;
  let status = 0;
  let isBatch = false;
  let withMeta = false;
  const settle = (one: Waiting | undefined, outcome: () => PeerValue): void => {
    if (!one || one.settled) return;
    one.settled = true;
    try {
      one.resolve(outcome());
    } catch (err) {
      one.reject(err);
    }
  };
  const failWith = (error: unknown): void => {
    for (const one of waiting) settle(one, () => { throw error; });
  };
  const exchange = newExchange(
    (self) => peer.connections.dispatch(
      {
        method: 'POST',
        path: batchPath(peer.basePath, group),
        headers: ['content-type', BATCH_CONTENT_TYPE, META_HEADER, META_FORMAT, ...peer.heartbeatHeaders],
        body: encodeKeys(waiting.map((one) => one.key)),
      },
      handler(self),
    ),
    (err) => failWith(unavailable(peer.url, err, peer.timeoutMs)),
  );
  const handler = (self: typeof exchange): Dispatcher.DispatchHandler => ({
    onRequestStart: (controller) => exchanges.requestStarted(self, controller),
    onResponseStart: (_controller, statusCode, headers) => {
      exchanges.answered(self);
      status = statusCode;
      isBatch = statusCode === 200 && headers['content-type'] === BATCH_CONTENT_TYPE;
      // An owner older than metadata in frames does not repeat the header and sends bare values.
      withMeta = headers[META_HEADER] === META_FORMAT;
    },
    onResponseData: (controller, chunk) => {
      exchanges.alive(self);
      if (!body.count(chunk)) return controller.abort(body.tooLarge());
      if (!isBatch || self.done) return; // the answer of a peer that does not batch: only its status matters
      // Heartbeat frames carry no key index the batch has: settle() skips them.
      for (const frame of reader.push(chunk)) {
        settle(waiting[frame.index], () => frameAnswer(peer.url, frame.status, frame.bytes, withMeta));
      }
    },
    onResponseEnd: () => {
      const expired = self.done;
      exchanges.ended(self);
      if (expired) return;
      if (!isBatch) {
        // Not a peer that answers batches (405 from an older pod, an error from a Go peer):
        // ask for each key alone. A 404 is about the group, which single GETs will say too.
        if (status !== 404) fallback.stopBatching();
        for (const one of waiting) fallback.one(group, one.key).then(one.resolve, one.reject);
        return;
      }
      // Normally every key was answered: build the error (and its stack) only for keys left waiting.
      if (waiting.some((one) => !one.settled)) failWith(new PeerUnavailableError(peer.url, `peer ${peer.url} ended a batch without answering every key`));
    },
    onResponseError: (_controller, err) => exchanges.ended(self, err),
  });
  peer.traffic.batches++;
  peer.traffic.batchedKeys += waiting.length;
  exchanges.start(exchange);
}
