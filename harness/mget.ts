// mget.ts is a client of POST /api/mget for the tests and the bench: the keys go one a line, the answer's frames
// (protocol/batch.ts) come back by key.
import { request, type Agent } from 'node:http';
import { BATCH_CONTENT_TYPE, encodeKeys, FrameReader } from '../src/protocol/batch.js';

export interface MgetAnswer {
  /** The response's status; 200 unless the whole request was refused. */
  status: number;
  /** Each key's frame: its status and its bytes (the value, or the message). */
  byKey: Map<string, { status: number; bytes: Buffer }>;
  /** The refusal's text, when status is not 200. */
  text: string;
}

/** POST /api/mget[?group=G] with `keys` in the batch encoding (any key at all), over `agent` (default: a fresh connection). */
export function mget(baseUrl: string, keys: readonly string[], options: { group?: string; agent?: Agent; timeoutMs?: number } = {}): Promise<MgetAnswer> {
  const url = `${baseUrl}/api/mget${options.group === undefined ? '' : `?group=${encodeURIComponent(options.group)}`}`;
  const body = encodeKeys(keys);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: options.agent ?? false, timeout: options.timeoutMs ?? 10_000, headers: { 'content-type': BATCH_CONTENT_TYPE, 'content-length': body.byteLength } }, (res) => {
      const reader = new FrameReader();
      const byKey = new Map<string, { status: number; bytes: Buffer }>();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (res.statusCode !== 200) return void chunks.push(chunk);
        for (const frame of reader.push(chunk)) byKey.set(keys[frame.index]!, { status: frame.status, bytes: Buffer.from(frame.bytes) });
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, byKey, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
