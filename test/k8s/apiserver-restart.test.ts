// apiserver-restart.test.ts stops kube-apiserver for 20 s under load: the pods keep serving with their last
// ring, discovery counts the failures, and once the API is back the watch follows membership again.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { httpGet, metricValue } from '../../harness/cache-process.js';
import { cluster, getJson, helm, isReady, kubectl, localImageValues, namespace, releasePods, ringOf, ringsListExactly, sleep, waitUntil } from './support/kube.js';
import { recordClusterResult } from './support/results.js';
import { clientLoop, startOrigin } from './support/traffic.js';

const execFileAsync = promisify(execFile);
const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const OUTAGE_MS = 20_000;

async function discoveryErrors(podIp: string): Promise<number> {
  return metricValue((await httpGet(`http://${podIp}:9999/metrics`)).body, 'geecache_discovery_errors_total') ?? 0;
}

it('keeps serving while kube-apiserver is down for 20 s, counts it, and follows membership once it is back', async () => {
  const ns = await namespace('apiserver-restart');
  const origin = await startOrigin(cluster.nodeIp);
  await helm([
    'install', 'api', chartDir, '--namespace', ns, '--wait', '--timeout', '180s',
    ...[...localImageValues, 'groups[0].name=pages', 'groups[0].bytes=16MiB', `groups[0].source=${origin.url}`].flatMap((v) => ['--set', v]),
  ]);
  const service = await getJson<{ spec: { clusterIP: string } }>(['service', 'api-geecache', '-n', ns]);
  const pods = (await releasePods(ns, 'api')).filter(isReady);
  // helm --wait returns once the pods are Ready, which may be before every watch has seen the last
  // of them: the outage must start from one ring of three, or it freezes a ring of two.
  await waitUntil('every ring to list the three Ready pods', 60_000, async () => ringsListExactly(pods));
  const ips = pods.map((pod) => pod.status.podIP!);
  const errorsBefore = await Promise.all(ips.map(discoveryErrors));
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);

  const loop = clientLoop(`http://${service.spec.clusterIP}:9999`, 'pages', keys);
  let during: number[] = [];
  try {
    await execFileAsync('bash', [cluster.clusterScript, 'apiserver', 'stop'], { timeout: 60_000 });
    try {
      await sleep(OUTAGE_MS);
      during = await Promise.all(pods.map(async (pod) => (await ringOf(pod)).length));
    } finally {
      await execFileAsync('bash', [cluster.clusterScript, 'apiserver', 'start'], { timeout: 120_000 });
    }
  } finally {
    // Stopped whatever failed: a loop left running keeps the test's process alive.
    await loop.stop();
  }
  // Still one ring of three on every pod: the last peer list stays in force. If not, what happened to the pods.
  if (JSON.stringify(during) !== '[3,3,3]') {
    await waitUntil('the API server to answer again', 120_000, async () => (await kubectl(['get', 'pods', '-n', ns]).then(() => true, () => false)));
    for (const pod of await releasePods(ns, 'api')) {
      console.log(`# ${pod.metadata.name}: ${JSON.stringify(pod.status.conditions)} ${JSON.stringify(pod.status.containerStatuses?.map((c) => ({ restarts: c.restartCount, last: c.lastState })))}`);
      const logs = (await kubectl(['logs', '-n', ns, pod.metadata.name, '--tail=30']).catch((err: Error) => ({ stdout: err.message }))).stdout;
      for (const line of logs.split('\n')) console.log(`#   ${line}`);
    }
  }
  assert.deepEqual(during, [3, 3, 3]);
  const report = await loop.stop();
  assert.deepEqual(report.failures, [], `${report.requests} requests while the API server was down`);
  assert.ok(report.requests > 100);

  const errorsAfter = await Promise.all(ips.map(discoveryErrors));
  ips.forEach((ip, i) => assert.ok(errorsAfter[i]! > errorsBefore[i]!, `${ip}: geecache_discovery_errors_total went from ${errorsBefore[i]} to ${errorsAfter[i]}`));

  // The watch is back: a fourth pod joins every ring.
  await kubectl(['scale', 'statefulset/api-geecache', '-n', ns, '--replicas=4']);
  const ms = await waitUntil('every ring to list the four Ready pods', 120_000, async () => {
    const ready = (await releasePods(ns, 'api')).filter(isReady);
    return ready.length === 4 && ringsListExactly(ready);
  });
  // What discovery logged about it, from one pod: the failures, the backoff, the recovery.
  const logs = (await kubectl(['logs', '-n', ns, pods[0]!.metadata.name, '--since=5m'])).stdout.split('\n');
  for (const line of logs.filter((l) => /watch|EndpointSlice|membership/.test(l)).slice(-12)) console.log(`# ${pods[0]!.metadata.name}: ${line}`);
  recordClusterResult('API server restarted', `kube-apiserver stopped for ${OUTAGE_MS / 1000} s, 3 pods, 4 clients through the API Service`, report,
    `discovery errors per pod ${errorsAfter.map((n, i) => n - errorsBefore[i]!).join(', ')}; rings kept their 3 peers; a scale-up after the restart reached every ring in ${(ms / 1000).toFixed(0)} s`);
  console.log(`# API server down ${OUTAGE_MS} ms: ${report.requests} requests, 0 failed; discovery errors per pod ${errorsAfter.map((n, i) => n - errorsBefore[i]!).join(', ')}; a scale-up after the restart reached every ring in ${ms} ms`);
});
