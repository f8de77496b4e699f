// cached-or-load.ts is the one way every protocol (GET /api, a peer's GET, a batch) asks a group for a key.
import { setMaxListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { ByteView } from '../engine/byteview.js';
import { FROM_PEER, type Group } from '../engine/group.js';

/** The reason a load's wait ends when the response it was for closed unanswered. */
export class ClientGoneError extends Error {
  readonly code = 'ERR_CLIENT_GONE';
  constructor() {
    super('the client closed the connection before the answer');
    this.name = 'ClientGoneError';
  }
}

/**
 * The cached value of `key`, returned as it is so a hit is answered synchronously (no promise, no
 * extra turn of the event loop), or the promise of its load for `res`: the load waits for this
 * response only while it is open, and stops at the source once no response waits for it
 * (singleflight.ts). The key is validated and looked up once: throws InvalidKeyError for a key no
 * get can ask for.
 */
export function cachedOrLoad(group: Group, key: string, res: ServerResponse, fromPeer = false): ByteView | Promise<ByteView> {
  return group.getCached(key, fromPeer ? FROM_PEER : undefined) ?? group.load(key, { fromPeer, signal: clientGone(res) });
}

interface ResponseSignal {
  signal: AbortSignal;
  /** More than one key waits on it. */
  shared: boolean;
}

const signals = new WeakMap<ServerResponse, ResponseSignal>();

/** Aborted when `res` closes before it was finished; one per response (a batch's keys share it). Made on a miss only. */
export function clientGone(res: ServerResponse): AbortSignal {
  const made = signals.get(res);
  if (made) {
    // A multi-get's keys (up to its key limit) each wait on this one signal: not a leak, so no
    // warning past ten listeners. Set only once a second key joins: it costs about as much as
    // making the signal.
    if (!made.shared) setMaxListeners(0, made.signal);
    made.shared = true;
    return made.signal;
  }
  const controller = new AbortController();
  signals.set(res, { signal: controller.signal, shared: false });
  if (res.destroyed) controller.abort(new ClientGoneError());
  else res.once('close', () => void (res.writableFinished || controller.abort(new ClientGoneError())));
  return controller.signal;
}
