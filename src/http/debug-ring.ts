// debug-ring.ts answers GET /debug/ring: this pod's view of the ring (self, peers, the handoff window, a key's owner),
// on whichever port GEECACHE_DEBUG_RING puts it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerRing } from '../engine/peer-ring.js';
import { pathOf, parseUrlQuery } from './query.js';
import { sendText } from './responses.js';

/** Where /debug/ring is served: beside /api, on the peer port only, or nowhere. */
export type DebugRingPort = 'http' | 'peer' | 'off';

export const DEBUG_RING_PATH = '/debug/ring';

/** Whether a request URL is /debug/ring (any query). */
export function isDebugRing(url: string): boolean {
  return pathOf(url) === DEBUG_RING_PATH;
}

/** Answers GET /debug/ring[?key=K]; the query is read as /api reads it, so a key /api refuses is refused here too. */
export function answerDebugRing(ring: PeerRing, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'only GET is supported', { allow: 'GET, HEAD' });
  const query = parseUrlQuery(req.url ?? '');
  if (!query.ok) return sendText(res, 400, query.message);
  const { key } = query;
  const body = JSON.stringify({
    self: ring.self,
    peers: ring.peers,
    replicas: ring.replicas,
    // The window after the last membership change in which new owners peek and leavers hand over.
    handoff: ring.handoff,
    ...(key ? { key, owner: ring.ownerOf(key) ?? null } : {}),
  });
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
