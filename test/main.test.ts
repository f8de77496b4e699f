// The single-process entry point: configuration errors, signals and draining, as a real process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { startProcess } from './support/processes.js';

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

test("past the drain deadline nothing waits for a slow source: the exit does not wait for the origin's answer", async () => {
  // An origin that answers after 8 s, and records when each lookup arrived and whether it was cut.
  const { createServer } = await import('node:http');
  const lookups: Array<{ key: string; aborted: boolean }> = [];
  const origin = createServer((req, res) => {
    const lookup = { key: decodeURIComponent(req.url!.slice(1)), aborted: false };
    lookups.push(lookup);
    const timer = setTimeout(() => res.end('late'), 8000);
    res.on('close', () => {
      clearTimeout(timer);
      lookup.aborted = !res.writableFinished;
    });
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const { env, httpPort } = await podEnv({
    GEECACHE_DRAIN_TIMEOUT_MS: '1000',
    GEECACHE_SOURCE_TIMEOUT_MS: '20000',
    GEECACHE_GROUPS: `pages:1MiB:http://127.0.0.1:${(origin.address() as { port: number }).port}`,
  });
  const proc = startProcess(['dist/src/main.js'], { env });
  after(() => proc.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 10_000, `readiness:\n${proc.output()}`);
  const slow = fetch(`${base}/api?key=slow`).then((r) => r.status, (err: Error) => err.message);
  await waitFor(() => lookups.length === 1, 5000, 'the lookup to reach the origin');
  proc.child.kill('SIGTERM');
  assert.equal(await proc.exited, 0, proc.output());
  // The client was cut at the drain deadline; the process then aborted the lookup instead of waiting for it.
  assert.notEqual(await slow, 200);
  await waitFor(() => lookups[0]!.aborted, 2000, 'the origin to see its lookup aborted');
  assert.deepEqual(lookups.map((l) => l.key), ['slow'], 'no load after the drain deadline');
  // The aborted lookup's own 'load failed' may be logged before the exit or not: its promise races process.exit.
  const messages = proc.output().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => m !== 'load failed');
  assert.deepEqual(messages.slice(-4), [
    'shutting down: readiness now 503',
    'drain timeout: closed the remaining connections',
    'requests to peers or sources still in flight: aborting them',
    'shut down',
  ]);
});

test('SIGTERM under keep-alive load: every request sent is answered or refused cleanly, never reset', async () => {
  const { Agent, request } = await import('node:http');
  const { env, httpPort } = await podEnv({ GEECACHE_DEMO_LATENCY_MS: '0' });
  const proc = startProcess(['dist/src/main.js'], { env });
  after(() => proc.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 10_000, `readiness:\n${proc.output()}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  after(() => agent.destroy());
  const outcomes = { answered: 0, refused: 0, other: [] as string[] };
  let terminated = false;
  /** One request; resolves whether the listener refused it. */
  const get = () =>
    new Promise<boolean>((resolve) => {
      const req = request(`${base}/api?key=Tom`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          outcomes.answered++;
          resolve(false);
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') outcomes.refused++;
        else outcomes.other.push(`${err.code ?? ''} ${err.message}`);
        resolve(err.code === 'ECONNREFUSED');
      });
      req.end();
    });
  // Eight clients, each sending its next request as soon as the last is answered, until the listener is gone.
  const loops = Array.from({ length: 8 }, async () => {
    for (let i = 0; i < 20_000; i++) if ((await get()) && terminated) return;
  });
  await new Promise((r) => setTimeout(r, 300));
  terminated = true;
  proc.child.kill('SIGTERM');
  await Promise.all(loops);
  assert.equal(await proc.exited, 0, proc.output());
  assert.deepEqual(outcomes.other, [], `${outcomes.answered} answered, ${outcomes.refused} refused`);
  assert.ok(outcomes.answered > 100 && outcomes.refused >= 8);
});
