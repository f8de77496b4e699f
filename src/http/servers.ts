// servers.ts makes our node:http servers, starts them listening, and drains them on shutdown under a deadline.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { MessageClasses } from './message-classes.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** How many connections a listener holds and how long one may sit without progress. */
export interface ConnectionLimits {
  /** Open connections at most; past it new ones are closed at once. Default: no cap. */
  maxConnections?: number;
  /**
   * A connection with no bytes read or written for this long is closed: a client that stops reading
   * an answer no longer holds it (and what it pins) open. Default 0: never.
   */
  stallTimeoutMs?: number;
}

/**
 * A server whose only 'request' handler is `listener`, with nothing wrapped around it (see refuseKeepAlive);
 * with `tls`, an HTTPS server (peer-tls.ts).
 */
export function createCacheServer(classes: MessageClasses, listener: RequestListener, limits: ConnectionLimits = {}, tls?: HttpsServerOptions): Server {
  const options = { ...classes, keepAliveTimeout: 65_000, requestTimeout: 30_000 };
  // A connection that never finishes its handshake is dropped well before a drain's deadline.
  const server: Server = tls ? createHttpsServer({ ...options, ...tls, handshakeTimeout: 10_000 }, listener) : createServer(options, listener);
  if (limits.maxConnections !== undefined) server.maxConnections = limits.maxConnections;
  // With no 'timeout' listener, node:http destroys the socket when it fires.
  if (limits.stallTimeoutMs) server.timeout = limits.stallTimeoutMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const [status, message] = clientErrorAnswer(err.code);
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${message.length + 1}\r\nconnection: close\r\n\r\n${message}\n`);
  });
  return server;
}

/** The status line and one-line message for a request node:http could not parse or did not receive in time. */
export function clientErrorAnswer(code: string | undefined): [string, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return ['431 Request Header Fields Too Large', 'request line and headers are larger than the server accepts (16 KiB)'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return ['408 Request Timeout', 'the request did not arrive in time'];
  return ['400 Bad Request', `malformed HTTP request${code ? ` (${code})` : ''}`];
}

/** Listens on `host:port`; rejects with a message naming the port's role when it cannot. */
export function listen(server: Server, port: number, host: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port} (${name} port): ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Tracks the client connections of a set of servers, so a shutdown can tell busy ones to go
 * elsewhere, close idle ones as they become idle, and cut the rest at a deadline.
 */
export class ServerDrain {
  private readonly servers: readonly Server[];
  private readonly sockets = new Set<Socket>();

  constructor(servers: readonly Server[]) {
    this.servers = servers;
    for (const server of servers) {
      // An HTTPS server's requests ride the TLS socket, which exists once the handshake is done.
      server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
    }
  }

  /** Open client connections of all the servers. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * From now on every answer tells its keep-alive client to go elsewhere. A listener run before
   * the handler, added only now, keeps that check off the path of every request before shutdown.
   */
  refuseKeepAlive(): void {
    for (const server of this.servers) {
      server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close'));
    }
  }

  /**
   * Stops accepting connections and waits up to `timeoutMs` for in-flight requests to finish,
   * then closes what is left. Resolves with the number of connections it had to cut (0: all finished in time).
   *
   * A keep-alive connection is never closed the moment it falls idle: its client may have sent the
   * next request already, which a close would answer with a reset. Busy connections close after an
   * answer that says `connection: close`; idle ones after IDLE_CLOSE_GRACE_MS with no request, as
   * long as the deadline allows.
   */
  async drain(timeoutMs: number): Promise<number> {
    // Answers still being worked on tell their keep-alive clients to go elsewhere.
    for (const socket of this.sockets) {
      const res = inFlight(socket);
      if (res && !res.headersSent) res.setHeader('connection', 'close');
    }
    const closed = Promise.all(this.servers.map(stopListening));
    const idleSince = new Map<Socket, number>();
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const socket of this.sockets) {
        if (inFlight(socket)) idleSince.delete(socket);
        else if (!idleSince.has(socket)) idleSince.set(socket, now);
        else if (now - idleSince.get(socket)! >= IDLE_CLOSE_GRACE_MS) socket.destroy();
      }
    }, 20);
    const drained = await Promise.race([closed.then(() => true), sleep(timeoutMs).then(() => false)]);
    clearInterval(sweeper);
    if (drained) return 0;
    const cut = this.sockets.size;
    for (const server of this.servers) server.closeAllConnections();
    await closed;
    return cut;
  }
}

/** How long a connection must have been idle, during a drain, before it is closed under its client. */
const IDLE_CLOSE_GRACE_MS = 250;

/** The response a connection is working on, if any. */
function inFlight(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage ?? undefined;
}

/**
 * Closes the listener and resolves once every connection has ended. net.Server's close, not
 * http.Server's: since Node 19 the latter also closes every idle keep-alive connection at once.
 */
function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    NetServer.prototype.close.call(server, () => resolve());
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
