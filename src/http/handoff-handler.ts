// handoff-handler.ts answers the two handoff requests of the peer port (protocol/handoff.ts): peeks and handed values.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ByteView } from '../engine/byteview.js';
import type { GroupRegistry } from '../engine/group-registry.js';
import { receiveHanded, senderRefusal, type HandoffMembership, type SenderRefusal } from '../engine/handoff/receiver.js';
import { UnknownGroupError } from '../errors.js';
import { encodeGetResponse, parsePeerPath, PROTOBUF_CONTENT_TYPE } from '../protocol/get.js';
import { parseBatchPath } from '../protocol/batch.js';
import { decodeHandoff, HANDOFF_SEGMENT, HANDOFF_SENDER_HEADER, MAX_HANDOFF_BODY_BYTES, PEEK_SEGMENT } from '../protocol/handoff.js';
import { readBody } from './read-body.js';
import { sendError, sendText, writeBytes } from './responses.js';

/** Who may hand values to this process and which of them it keeps (HandoffWindow). */
export interface HandoffReceiver extends HandoffMembership {
  /** Told of each handoff refused for its sender, for the refusals metric. */
  onRefused?: (reason: SenderRefusal) => void;
}

/**
 * The one-line answers of refused handoffs. 409 for a sender still in this ring: it is not leaving
 * in this pod's view yet, and retries while its handoff budget lasts (sender.ts).
 */
const REFUSALS: Record<SenderRefusal, [number, string]> = {
  'no-sender': [403, `a handoff names its sender (${HANDOFF_SENDER_HEADER}: its peer URL)`],
  'wrong-address': [403, 'a handoff comes from its sender\'s own address'],
  'not-leaving': [409, 'the sender is still a member here: handoffs are taken from peers that left'],
  'not-a-peer': [403, 'handoffs are taken only from peers that left the ring within the handoff window'],
};

/** Answers GET <basePath>~peek/... and POST <basePath>~handoff/...; false when the URL is neither. */
export function answerHandoff(req: IncomingMessage, res: ServerResponse, groups: GroupRegistry, basePath: string, receiver: HandoffReceiver | undefined): boolean {
  const url = req.url ?? '/';
  if (url.startsWith(basePath + PEEK_SEGMENT)) {
    if (req.method !== 'GET') sendText(res, 405, 'a peek is a GET', { allow: 'GET' });
    else answerPeek(res, groups, basePath + PEEK_SEGMENT, url);
    return true;
  }
  if (url.startsWith(basePath + HANDOFF_SEGMENT)) {
    if (req.method !== 'POST') sendText(res, 405, 'a handoff is a POST', { allow: 'POST' });
    else if (!receiver) sendText(res, 403, 'this peer takes no handoff (GEECACHE_HANDOFF=off)');
    else receiveValues(req, res, groups, basePath + HANDOFF_SEGMENT, receiver);
    return true;
  }
  return false;
}

function answerPeek(res: ServerResponse, groups: GroupRegistry, prefix: string, url: string): void {
  const parsed = parsePeerPath(prefix, url);
  if (!parsed.ok) return sendText(res, 400, parsed.message);
  const group = groups.get(parsed.group);
  if (!group) return sendError(res, new UnknownGroupError(parsed.group));
  const cached = group.handoff.answerPeek(parsed.key);
  if (!cached) return void res.writeHead(204).end();
  writeBytes(res, encodeGetResponse(ByteView.bytesForWrite(cached), cached.expiresAt), PROTOBUF_CONTENT_TYPE, false);
}

function receiveValues(req: IncomingMessage, res: ServerResponse, groups: GroupRegistry, prefix: string, receiver: HandoffReceiver): void {
  const sender = req.headers[HANDOFF_SENDER_HEADER];
  const refusal = senderRefusal(sender, req.socket.remoteAddress, receiver);
  if (refusal !== undefined) {
    receiver.onRefused?.(refusal);
    const [status, message] = REFUSALS[refusal];
    return sendText(res, status, message);
  }
  const groupName = parseBatchPath(prefix, req.url ?? '/');
  if (groupName === undefined) return sendText(res, 400, `expected POST ${prefix}<group>/`);
  const group = groups.get(groupName);
  if (!group) return sendError(res, new UnknownGroupError(groupName));
  readBody(req, res, MAX_HANDOFF_BODY_BYTES, 'handoff body', (body) => {
    const decoded = decodeHandoff(body);
    if (!decoded.ok) return sendText(res, 400, decoded.message);
    sendText(res, 200, String(receiveHanded(group.handoff, sender as string, decoded.entries, receiver)));
  });
}
