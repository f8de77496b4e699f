// handoff-measure.ts counts what a ring change costs the origin: warm keys on a KubeRing, one membership
// event, then every key asked once more through random pods, with warm handoff on or off.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeRing } from './kube-ring.js';

export type RingEvent = 'scale-up' | 'scale-down' | 'rolling-restart' | 'kill';

export interface HandoffMeasure {
  event: RingEvent;
  handoff: boolean;
  keys: number;
  /** Origin loads caused by asking every key again after the event (0 is a perfectly warm ring). */
  reloads: number;
  /** Requests that did not get the key's value, during the event and after it. */
  failed: number;
  /** Requests cut off because the pod that took them was killed under them (SIGKILL): no cache can answer those. */
  cut: number;
  /** How long the event took, ms. */
  eventMs: number;
}

const HOSTS = ['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.24'];

/** The origin: a 100-byte value per key, counting loads. */
async function startOrigin(): Promise<{ url: string; loads: () => number; close(): Promise<void> }> {
  let loads = 0;
  const server = createServer((req, res) => {
    loads++;
    res.end(valueOf(decodeURIComponent((req.url ?? '/').slice(1))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loads: () => loads,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function valueOf(key: string): string {
  return `value-of-${key}-`.padEnd(100, '.');
}

/** Asks for every key once, each through a random pod, `concurrency` at a time; counts the failures. */
async function askAll(ring: KubeRing, keys: readonly string[], concurrency = 32): Promise<{ failed: number; cut: number }> {
  let failed = 0;
  let cut = 0;
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const pods = ring.servingPods();
      const pod = pods[Math.floor(Math.random() * pods.length)]!;
      const answer = await pod.get(`/api?key=${encodeURIComponent(key)}`, 10_000).catch(() => undefined);
      if (answer === undefined && ring.killed.has(pod)) cut++;
      else if (answer?.status !== 200 || answer.body !== valueOf(key)) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failed, cut };
}

/** Runs one event on a warm ring of `keys` keys and counts the origin loads that followed. */
export async function measureHandoff(event: RingEvent, options: { keys: number; handoff: boolean }): Promise<HandoffMeasure> {
  const origin = await startOrigin();
  const ring = await KubeRing.start({
    hosts: HOSTS,
    env: {
      GEECACHE_GROUPS: `scores:256MiB:${origin.url}`,
      GEECACHE_HANDOFF: options.handoff ? 'on' : 'off',
      // Generous on a shared 2-core host: a peek that times out costs a load, which this counts.
      GEECACHE_HANDOFF_PEEK_TIMEOUT_MS: '500',
    },
  });
  try {
    const start = event === 'scale-down' ? 4 : 3;
    for (const host of HOSTS.slice(0, start)) await ring.add(host);
    const keys = Array.from({ length: options.keys }, (_, i) => `key-${i}`);
    const warming = await askAll(ring, keys);
    const warm = origin.loads();
    const began = performance.now();
    // Traffic runs through the event: a ring change must not fail a request.
    const during = askAll(ring, keys, 4);
    if (event === 'scale-up') await ring.add(HOSTS[3]!);
    else if (event === 'scale-down') await ring.terminate(HOSTS[3]!);
    else if (event === 'kill') await ring.kill(HOSTS[2]!);
    else for (const host of HOSTS.slice(0, 3)) await ring.restart(host);
    const eventMs = Math.round(performance.now() - began);
    const through = await during;
    const again = await askAll(ring, keys);
    const failed = warming.failed + through.failed + again.failed;
    const cut = warming.cut + through.cut + again.cut;
    return { event, handoff: options.handoff, keys: options.keys, reloads: origin.loads() - warm, failed, cut, eventMs };
  } finally {
    await ring.close();
    await origin.close();
  }
}
