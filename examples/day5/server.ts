// server.ts is one process of the day-5 program: a cache node whose peer protocol is mounted in a node:http
// server of its own, and, with --api, a front-end server answering GET /api?key=K from the group.
// Outside this repository the import is `from 'geecache'`.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Geecache, NotFoundError } from '../../src/index.js';

/** The slow database the cache stands in front of. */
const db = new Map([
  ['Tom', '630'],
  ['Jack', '589'],
  ['Sam', '567'],
]);

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8001' },
    peers: { type: 'string', default: '8001,8002,8003' },
    api: { type: 'boolean', default: false },
    'api-port': { type: 'string', default: '9999' },
  },
});
const addr = (port: string) => `http://127.0.0.1:${port}`;
const self = addr(values.port);

const node = new Geecache({
  self,
  peers: values.peers.split(',').map(addr),
  // The peer handler goes into our own server below, as the tutorial's HTTPPool does.
  listen: false,
  groups: [
    {
      name: 'scores',
      cacheBytes: 2 << 10,
      getter: async (key) => {
        console.log('[SlowDB] search key', key);
        const value = db.get(key);
        if (value === undefined) throw new NotFoundError(`${key} not exist`);
        return value;
      },
    },
  ],
});
const scores = node.group('scores');
// Peers first: a request that came before would find no ring and load locally.
await node.start();

const cacheServer = createServer(node.peerHandler);
cacheServer.listen(Number(values.port), '127.0.0.1', () => console.log('geecache is running at', self));

const apiServer = values.api
  ? createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const key = url.searchParams.get('key') ?? '';
      if (url.pathname !== '/api') return void res.writeHead(404).end();
      scores.get(key).then(
        (view) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(view.toBytes()),
        (err: unknown) => res.writeHead(err instanceof NotFoundError ? 404 : 500).end(err instanceof Error ? err.message : String(err)),
      );
    })
  : undefined;
apiServer?.listen(Number(values['api-port']), '127.0.0.1', () => console.log('fontend server is running at', addr(values['api-port'])));

const stop = () => {
  cacheServer.close();
  apiServer?.close();
  void node.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
