// The single-process entry point: configuration errors, signals and draining, as a real process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts } from './support/ports.js';
import { startProcess, waitFor } from './support/processes.js';

test('a bad configuration exits 2 with one clear line on stderr', async () => {
  const proc = startProcess(['dist/src/main.js'], { env: { ...process.env, GEECACHE_GROUPS: 'scores:lots:demo' } });
  assert.equal(await proc.exited, 2);
  assert.equal(proc.output(), 'geecache: invalid configuration: GEECACHE_GROUPS: "lots" in group "scores" is not a byte size such as 64MiB\n');
  const flag = startProcess(['dist/src/main.js', '--port', 'x']);
  assert.equal(await flag.exited, 2);
  assert.match(flag.output(), /GEECACHE_PORT: must be a number/);
});

/** The environment of one process on two free loopback ports, plus `extra`. */
async function podEnv(extra: NodeJS.ProcessEnv): Promise<{ env: NodeJS.ProcessEnv; peerPort: number; httpPort: number }> {
  const [peerPort, httpPort] = await freePorts(2);
  const env = { ...process.env, GEECACHE_PORT: String(peerPort), GEECACHE_HTTP_PORT: String(httpPort), GEECACHE_BIND: '127.0.0.1', ...extra };
  return { env, peerPort: peerPort!, httpPort: httpPort! };
}

test('a kubeconfig that cannot be read exits 2 with one clear line on stderr', async () => {
  const { env, peerPort } = await podEnv({
    GEECACHE_DISCOVERY: 'kubernetes',
    GEECACHE_SERVICE: 'geecache-peers',
    POD_NAMESPACE: 'ns',
    KUBECONFIG: '/nonexistent/geecache-kubeconfig',
  });
  const proc = startProcess(['dist/src/main.js'], { env: { ...env, GEECACHE_SELF: `http://127.0.0.1:${peerPort}` } });
  assert.equal(await proc.exited, 2, proc.output());
  assert.match(proc.output(), /^geecache: cannot start: discovery: .*\/nonexistent\/geecache-kubeconfig/m);
});

test('--help prints every setting', async () => {
  const proc = startProcess(['dist/src/main.js', '--help']);
  assert.equal(await proc.exited, 0);
  assert.match(proc.output(), /--peer-timeout-ms\s+GEECACHE_PEER_TIMEOUT_MS\s+default: 2000/);
});

test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
  const { env, httpPort } = await podEnv({ GEECACHE_DEMO_LATENCY_MS: '700' });
  const proc = startProcess(['dist/src/main.js'], { env });
  after(() => proc.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 10_000, `readiness:\n${proc.output()}`);
  const slow = fetch(`${base}/api?key=Jack`).then(async (r) => [r.status, await r.text()]);
  await new Promise((r) => setTimeout(r, 150)); // the request is now waiting on the source
  proc.child.kill('SIGTERM');
  assert.deepEqual(await slow, [200, '589']);
  assert.equal(await proc.exited, 0, proc.output());
  const lines = proc.output().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
  assert.deepEqual(lines.slice(-3).map((l) => l.msg), ['signal received', 'shutting down: readiness now 503', 'shut down']);
});
