// peer-tls.test.ts proves issue 28's mutual TLS on the real cluster: the chart installed with peerTLS from a Secret
// (a CA and a certificate made here with openssl) forms an https:// ring that answers through every pod; a pod run from
// the release's image that holds a certificate from another CA, or none, cannot read a value from a peer's port,
// while the same pod with a certificate from the ring's CA can (so the refusal is TLS, not the network).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet, metricValue } from '../../harness/cache-process.js';
import { certificateScratch, issueCertificate, makeCa } from '../../harness/peer-certificates.js';
import { cluster, helm, isReady, kubectl, localImageValues, namespace, releasePods, ringOf, waitUntil, type PodJson } from './support/kube.js';

const chartDir = fileURLToPath(new URL('../../../helm/geecache', import.meta.url));
const RELEASE = 'mtls';

/** A pod's peer URL over TLS, as every ring lists it. */
const tlsPeerUrlOf = (pod: PodJson): string => `https://${pod.status.podIP!}:8001`;

/**
 * What the probe pod runs: one GET of `TARGET`, presenting /certs/tls.crt when mounted, not checking the
 * server (only the server's refusal is in question); prints one JSON line and exits 0 either way.
 */
const PROBE = `
const https = require('node:https'), fs = require('node:fs');
const own = fs.existsSync('/certs/tls.crt') ? { cert: fs.readFileSync('/certs/tls.crt'), key: fs.readFileSync('/certs/tls.key') } : {};
const done = (result) => { console.log(JSON.stringify(result)); process.exit(0); };
const req = https.get(process.env.TARGET, { ...own, rejectUnauthorized: false, timeout: 5000 }, (res) => {
  let body = ''; res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => done({ status: res.statusCode, body }));
});
req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', (err) => done({ error: err.message }));
`;

/** Runs the probe in a pod of the release's image, with `secret`'s certificate mounted (or none); its one line of output. */
async function probe(ns: string, name: string, target: string, secret: string | undefined): Promise<{ status?: number; body?: string; error?: string }> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: `${cluster.image.repository}:${cluster.image.tag}`,
          imagePullPolicy: 'Never',
          command: ['node', '-e', PROBE],
          env: [{ name: 'TARGET', value: target }],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: secret ? [{ name: 'certs', mountPath: '/certs', readOnly: true }] : [],
        },
      ],
      volumes: secret ? [{ name: 'certs', secret: { secretName: secret } }] : [],
    },
  };
  await kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(pod) });
  await kubectl(['wait', '-n', ns, `pod/${name}`, '--for=jsonpath={.status.phase}=Succeeded', '--timeout=90s'], { timeoutMs: 100_000 });
  const { stdout } = await kubectl(['logs', '-n', ns, name]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as { status?: number; body?: string; error?: string };
}

/** A Secret laid out as cert-manager writes one: tls.crt, tls.key, ca.crt. */
async function secretFrom(ns: string, name: string, dir: string): Promise<void> {
  await kubectl(['create', 'secret', 'generic', name, '-n', ns, ...['tls.crt', 'tls.key', 'ca.crt'].map((file) => `--from-file=${file}=${join(dir, file)}`)]);
}

describe('mutual TLS between peers', () => {
  // after() called inside before() would run when before() ends: the suite keeps its own list.
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let ns: string;
  let pods: PodJson[] = [];

  before(async () => {
    const scratch = certificateScratch();
    cleanups.push(scratch.remove);
    const ringCa = makeCa(scratch.path, 'ring-ca');
    const otherCa = makeCa(scratch.path, 'other-ca');
    ns = await namespace('peer-tls', (fn) => cleanups.push(fn));
    await secretFrom(ns, 'ring-tls', issueCertificate(ringCa, join(scratch.path, 'ring'), 'geecache-peer'));
    await secretFrom(ns, 'member-tls', issueCertificate(ringCa, join(scratch.path, 'member'), 'geecache-peer'));
    await secretFrom(ns, 'stranger-tls', issueCertificate(otherCa, join(scratch.path, 'stranger'), 'geecache-peer'));
    // Without the NetworkPolicy the probe pods reach the peer port: what stops them must be TLS.
    const values = ['replicaCount=2', 'peerTLS.enabled=true', 'peerTLS.existingSecret=ring-tls', 'networkPolicy.enabled=false', ...localImageValues];
    await helm(['install', RELEASE, chartDir, '--namespace', ns, '--wait', '--timeout', '180s', ...values.flatMap((v) => ['--set', v])]);
    await waitUntil('2 Ready pods whose rings list each other by https:// URLs', 120_000, async () => {
      pods = (await releasePods(ns, RELEASE)).filter(isReady);
      if (pods.length !== 2) return false;
      const expected = JSON.stringify(pods.map(tlsPeerUrlOf).sort());
      for (const pod of pods) if (JSON.stringify(await ringOf(pod)) !== expected) return false;
      return true;
    });
  });

  it('the ring answers through every pod, the keys another pod owns by a peer hop over TLS', async () => {
    for (const key of ['Tom', 'Jack', 'Sam']) {
      for (const pod of pods) {
        const answer = await httpGet(`http://${pod.status.podIP!}:9999/api?key=${key}`);
        assert.equal(answer.status, 200, `${pod.metadata.name} ${key}: ${answer.body}`);
      }
    }
    let hops = 0;
    for (const pod of pods) {
      const metrics = (await httpGet(`http://${pod.status.podIP!}:9999/metrics`)).body;
      hops += metricValue(metrics, 'geecache_peer_loads_total') ?? 0;
      assert.equal(metricValue(metrics, 'geecache_peer_request_duration_seconds_count', { outcome: 'error' }) ?? 0, 0, `${pod.metadata.name}: a peer request failed`);
    }
    // Each of the 3 keys has one owner; the other pod fetched it from there.
    assert.ok(hops >= 3, `${hops} values fetched from peers`);
  });

  it("a pod with a certificate from another CA, or none, cannot read a value from a peer's port; one from the ring's CA can", async () => {
    const target = `${tlsPeerUrlOf(pods[0]!)}/_geecache/scores/Tom`;
    const member = await probe(ns, 'probe-member', target, 'member-tls');
    assert.equal(member.status, 200, `the control, with the ring's CA: ${JSON.stringify(member)}`);
    for (const [name, secret] of [['probe-stranger', 'stranger-tls'], ['probe-nocert', undefined]] as const) {
      const result = await probe(ns, name, target, secret);
      assert.ok(result.error !== undefined && result.status === undefined, `${name} read the peer port: ${JSON.stringify(result)}`);
    }
  });
});
