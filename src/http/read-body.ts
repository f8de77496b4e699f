// read-body.ts reads an HTTP response body into one Buffer, refusing bodies over a limit.

/** A response body as undici gives it. */
export interface ReadableBody extends AsyncIterable<Buffer> {
  destroy(err?: Error): unknown;
}

export async function readBody(body: ReadableBody, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
