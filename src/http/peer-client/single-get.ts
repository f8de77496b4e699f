// single-get.ts asks a peer for one key with groupcache's own GET, which Go peers answer too.
import type { Dispatcher } from 'undici';
import type { PeerValue } from '../../engine/peers.js';
import { peerPath } from '../../protocol/get.js';
import { BodyCollector } from '../read-body.js';
import { getAnswer, unavailable } from './answers.js';
import { newExchange, type PeerLink } from './exchange.js';

/** GET <basePath><group>/<key> as one exchange; `signal` aborts it. */
export function getOne(peer: PeerLink, group: string, key: string, signal?: AbortSignal): Promise<PeerValue> {
  peer.traffic.gets++;
  return new Promise((resolve, reject) => {
    let status = 0;
    const body = new BodyCollector(peer.maxResponseBytes, 'response');
    let onAbort: (() => void) | undefined;
    const { exchanges } = peer;
    const exchange = newExchange(
      (self) => peer.connections.dispatch({ method: 'GET', path: peerPath(peer.basePath, group, key), headers: peer.heartbeatHeaders }, handler(self)),
      (err) => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        reject(unavailable(peer.url, err, peer.timeoutMs));
      },
    );
    const handler = (self: typeof exchange): Dispatcher.DispatchHandler => ({
      onRequestStart: (controller) => exchanges.requestStarted(self, controller),
      // 1xx too: the owner's heartbeat (102 Processing) while it loads the key.
      onResponseStart: (_controller, statusCode) => {
        exchanges.answered(self);
        status = statusCode;
      },
      onResponseData: (controller, chunk) => {
        exchanges.alive(self);
        if (!body.push(chunk)) controller.abort(body.tooLarge());
      },
      onResponseEnd: () => {
        const expired = self.done;
        exchanges.ended(self);
        if (expired) return;
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        try {
          resolve(getAnswer(peer.url, status, body.bytes()));
        } catch (err) {
          reject(err);
        }
      },
      onResponseError: (_controller, err) => exchanges.ended(self, err),
    });
    if (signal) {
      if (signal.aborted) return reject(unavailable(peer.url, signal.reason, peer.timeoutMs));
      onAbort = () => {
        if (exchange.done) return;
        exchange.done = true;
        reject(unavailable(peer.url, signal.reason, peer.timeoutMs));
        exchange.controller?.abort(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
    exchanges.start(exchange);
  });
}
