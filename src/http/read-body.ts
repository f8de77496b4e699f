// read-body.ts collects a request body within a size limit, for the peer port's POSTs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from './responses.js';

/**
 * Calls `done` with the whole body. A body past `maxBytes` is answered 413 (`what` names it) and
 * its connection closed once the answer is out, so the rest of it is never read.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, what: string, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.byteLength;
    if (received > maxBytes) {
      req.removeAllListeners('data');
      sendText(res, 413, `${what} larger than ${maxBytes} bytes`, { connection: 'close' });
      res.on('finish', () => req.destroy());
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
}
