// busy-owner.ts (not part of `npm run reliability`): many concurrent slow misses of keys one healthy pod owns, asked through another pod; shows the asker's fallbacks and circuit trips.
// node dist/bench/reliability/busy-owner.js [keys=100] [gap-ms=5] [source-ms=3000] [peer-timeout-ms=1000]
import { installCleanup } from '../../harness/child.js';
import { sleep } from '../../harness/wait.js';
import { apiPath, expectValue, send } from './clients.js';
import { startFaultyOrigin } from './origin.js';
import { startRing } from './pods.js';

async function main(): Promise<void> {
  installCleanup();
  const [keys, gapMs, sourceMs, peerTimeoutMs] = [100, 5, 3000, 1000].map((fallback, i) => Number(process.argv[2 + i] ?? fallback)) as [number, number, number, number];
  const origin = await startFaultyOrigin({ latencyMs: sourceMs });
  const ring = await startRing({ name: 'busy', pods: 2, groups: `rel:64MiB:${origin.url}`, env: { GEECACHE_PEER_TIMEOUT_MS: String(peerTimeoutMs) } });
  try {
    const asker = ring.pods[1]!;
    const owned = ring.keysOwnedBy(0, 'x-', keys);
    const results = await Promise.all(
      owned.map(async (key, i) => {
        await sleep(i * gapMs);
        const started = performance.now();
        const result = await send(asker, { key, path: apiPath(key), check: expectValue(key) }, 20_000);
        return { ...result, ms: performance.now() - started };
      }),
    );
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const outcomes: Record<string, number> = {};
    for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    console.log(
      JSON.stringify({
        keys,
        gapMs,
        sourceMs,
        peerTimeoutMs,
        outcomes,
        sourceLoads: origin.totalLoads,
        keysLoadedMoreThanOnce: owned.filter((k) => origin.loadsOf(k) > 1).length,
        asker: await asker.totals(),
        p50Ms: Math.round(ms[ms.length >> 1]!),
        maxMs: Math.round(ms[ms.length - 1]!),
      }),
    );
    const warnings = asker.tail().split('\n').filter((line) => line.includes('"level":40'));
    if (warnings[0]) console.log(`asker's first warning: ${warnings[0]}`);
  } finally {
    await ring.close();
    await origin.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
