// servers.test.ts: listening, the answers to unparsable requests, and the drain of a shutdown, on real loopback servers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { clientErrorAnswer, createCacheServer, listen, ServerDrain } from '../../src/http/servers.js';

const classes = { IncomingMessage: (await import('node:http')).IncomingMessage, ServerResponse: (await import('node:http')).ServerResponse };

async function started(listener: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createCacheServer(classes, listener);
  await listen(server, 0, '127.0.0.1', 'test');
  after(() => {
    server.closeAllConnections();
    if (server.listening) server.close();
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
    }).on('error', reject).end();
  });
}

test('listen names the port role when the port is taken', async () => {
  const taken = createServer();
  await listen(taken, 0, '127.0.0.1', 'peer');
  after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  await assert.rejects(listen(createServer(), port, '127.0.0.1', 'http'), new RegExp(`cannot listen on 127.0.0.1:${port} \\(http port\\): .*EADDRINUSE`));
});

test('a request node:http cannot parse gets a status line and one line of text, then the connection closes', async () => {
  const { port } = await started((_req, res) => res.end('ok'));
  const answer = await new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8').on('data', (c: string) => (text += c)).on('close', () => resolve(text));
  });
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(answer, /connection: close\r\n\r\nmalformed HTTP request \(HPE_[A-Z_]+\)\n$/);
  assert.deepEqual(clientErrorAnswer('HPE_HEADER_OVERFLOW')[0], '431 Request Header Fields Too Large');
  assert.deepEqual(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT')[0], '408 Request Timeout');
  assert.deepEqual(clientErrorAnswer(undefined), ['400 Bad Request', 'malformed HTTP request']);
});

test('a drain with nothing in flight closes idle keep-alive connections and cuts none', async () => {
  const { server, port } = await started((_req, res) => res.end('ok'));
  const drain = new ServerDrain([server]);
  const agent = new Agent({ keepAlive: true });
  after(() => agent.destroy());
  assert.equal((await get(port, agent)).body, 'ok');
  assert.equal(drain.connections, 1);
  assert.equal(await drain.drain(2000), 0);
  assert.equal(server.listening, false);
});

test('during a drain an answer in flight finishes with connection: close; past the deadline what is left is cut', async () => {
  let release: (() => void) | undefined;
  const { server, port } = await started((req, res) => {
    if (req.url === '/') release = () => res.end('late');
  });
  const drain = new ServerDrain([server]);
  drain.refuseKeepAlive();
  const agent = new Agent({ keepAlive: true });
  after(() => agent.destroy());
  const finishing = get(port, agent);
  await new Promise<void>((resolve) => { const check = () => (release ? resolve() : setTimeout(check, 5)); check(); });
  const draining = drain.drain(2000);
  release!();
  assert.deepEqual(await finishing, { status: 200, connection: 'close', body: 'late' });
  assert.equal(await draining, 0);

  const second = await started(() => {}); // never answers
  const stuck = new ServerDrain([second.server]);
  const hanging = get(second.port, agent).catch((err: Error) => err);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started2 = Date.now();
  assert.equal(await stuck.drain(200), 1, 'one connection cut at the deadline');
  assert.ok(Date.now() - started2 < 1500, 'the drain ends at its deadline');
  assert.ok((await hanging) instanceof Error);
});
