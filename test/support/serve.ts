// serve.ts starts a plain node:http server on 127.0.0.1 for one test file, recording what it was asked, closed after the file.
import { after } from 'node:test';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  /** "METHOD url" of every request, in order. */
  requests: string[];
  /** TCP connections accepted so far. */
  connections: () => number;
}

export async function serve(listener: RequestListener): Promise<TestServer> {
  const requests: string[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    listener(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, connections: () => connections };
}
