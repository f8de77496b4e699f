// go-peer.test.ts runs a mixed ring, one geecache process and one Go groupcache process, and asks each for
// keys the other owns: the wire format, the owner choice and key escaping must agree in both directions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { HashRing } from '../../src/engine/ring.js';
import { CacheProcess, httpGet } from '../../harness/cache-process.js';
import { freePorts } from '../../harness/ports.js';
import { waitFor } from '../../harness/wait.js';

const BUILD = fileURLToPath(new URL('../../../scripts/build-groupcache-peer.sh', import.meta.url));

function goBinary(): string | undefined {
  try {
    return execFileSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim().split('\n').pop();
  } catch {
    return undefined;
  }
}

const binary = goBinary();

describe('a mixed ring with Go groupcache', { skip: binary === undefined && 'no Go toolchain to build bench/reference/groupcache-server' }, () => {
  const loads: string[] = [];
  let ours: CacheProcess;
  let go: ChildProcess;
  let goApi: string;
  let ring: HashRing;
  let oursSelf: string;
  let goSelf: string;
  // Registered here, not inside before(): an after() called there runs as soon as before() ends.
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    const origin = createServer((req, res) => {
      const key = decodeURIComponent(req.url!.slice(1));
      loads.push(key);
      res.end(`value of ${key}`);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => origin.close());
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const [ourPeer, ourHttp, goPeer, goApiPort] = await freePorts(4);
    oursSelf = `http://127.0.0.1:${ourPeer}`;
    goSelf = `http://127.0.0.1:${goPeer}`;
    const peers = [oursSelf, goSelf].join(',');
    ring = new HashRing([oursSelf, goSelf]);
    ours = new CacheProcess({
      name: 'geecache',
      host: '127.0.0.1',
      httpPort: ourHttp!,
      env: {
        GEECACHE_PORT: String(ourPeer),
        GEECACHE_HTTP_PORT: String(ourHttp),
        GEECACHE_BIND: '127.0.0.1',
        GEECACHE_SELF: oursSelf,
        GEECACHE_PEERS: peers,
        // Go groupcache's defaults: its path, and the group the reference server serves.
        GEECACHE_BASE_PATH: '/_groupcache/',
        // A TTL: our answers carry an expiry (GetResponse field 3), which Go groupcache must skip.
        GEECACHE_GROUPS: `bench:1MiB:1h:${originUrl}`,
        GEECACHE_ADMIN_TOKEN: 'mixed-ring-admin-token',
        GEECACHE_HOT_CACHE: 'off',
        LOG_LEVEL: 'warn',
      },
    });
    goApi = `http://127.0.0.1:${goApiPort}`;
    go = spawn(binary!, ['-self', goSelf, '-peers', peers, '-api', `127.0.0.1:${goApiPort}`, '-origin', originUrl, '-cache-bytes', '4096'], { stdio: 'ignore' });
    cleanups.push(async () => {
      go.kill('SIGKILL');
      await ours.stop();
    });
    await waitFor(async () => (await ours.get('/readyz')).status === 200 && (await httpGet(`${goApi}/readyz`)).status === 200, 15_000, 'both peers');
  });

  /** The first of `candidates` that `owner` owns on the shared ring. */
  const ownedBy = (owner: string, candidates: string[]): string => {
    const key = candidates.find((k) => ring.ownerOf(k) === owner);
    assert.ok(key, `one of ${candidates.length} keys is owned by ${owner}`);
    return key;
  };
  const spaced = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix} ${i} x+y`);

  it('a key with a space and a plus, asked through the Go peer, is loaded by us as itself', async () => {
    const key = ownedBy(oursSelf, spaced('go asks'));
    loads.length = 0;
    const answer = await httpGet(`${goApi}/api?key=${encodeURIComponent(key)}`);
    assert.deepEqual(answer, { status: 200, body: `value of ${key}` });
    // Go's client sent url.QueryEscape(key): '+' for the space and %2B for the plus.
    assert.deepEqual(loads, [key], 'our pod loaded exactly that key, once');
  });

  it('a key with a space and a plus, asked through us, is loaded by the Go owner as itself', async () => {
    const key = ownedBy(goSelf, spaced('we ask'));
    loads.length = 0;
    const answer = await ours.get(`/api?group=bench&key=${encodeURIComponent(key)}`);
    assert.deepEqual(answer, { status: 200, body: `value of ${key}` });
    assert.deepEqual(loads, [key], 'the Go pod loaded exactly that key, once');
  });

  it('an invalidation cannot reach the Go peer, and says so', async () => {
    const response = await fetch(`${ours.baseUrl}/api?group=bench&key=anything`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer mixed-ring-admin-token' },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(response.status, 200);
    const report = (await response.json()) as { peers: number; reached: number; unreached: Array<{ peer: string; error: string }> };
    assert.equal(report.peers, 1);
    assert.equal(report.reached, 0);
    assert.equal(report.unreached[0]!.peer, goSelf);
    assert.match(report.unreached[0]!.error, /not a geecache peer/);
  });
});
