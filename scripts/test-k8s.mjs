#!/usr/bin/env node
// `npm run test:k8s`: builds the cluster's parts and the images, starts a single-node Kubernetes on this
// machine (scripts/k8s/cluster.sh), runs test/k8s/ against it, and always tears it down.
//
// Needs root, cgroups and iptables. Where the cluster cannot run, it says why and exits 0, so a laptop
// stays green; with GEECACHE_K8S_REQUIRED=1 (CI sets it) that is a failure. K8S_KEEP=1 leaves the
// cluster up afterwards for another run (the next run replaces it). Optional arguments filter the test
// files by substring, as npm test's do.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps, run } from './ensure-deps.mjs';

const EXIT_CANNOT_RUN = 77;
const required = process.env.GEECACHE_K8S_REQUIRED === '1';
const script = (...parts) => join('scripts', ...parts);

/** Runs a script, its progress on our stderr; returns its status and stdout's last line. */
function step(what, command, args, env = {}) {
  const started = Date.now();
  console.error(`test:k8s: ${what} ...`);
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.error(`test:k8s: ${what}: ${result.status === 0 ? 'done' : `exit ${result.status}`} in ${seconds} s`);
  return { status: result.status ?? 1, out: (result.stdout ?? '').trim().split('\n').pop() ?? '' };
}

function must(what, command, args, env) {
  const result = step(what, command, args, env);
  if (result.status !== 0) {
    console.error(`test:k8s: ${what} failed`);
    process.exit(result.status === EXIT_CANNOT_RUN && !required ? 0 : 1);
  }
  return result.out;
}

if (process.getuid?.() !== 0) {
  console.error('test:k8s: skipped: the cluster needs root (network devices, iptables, containerd)');
  process.exit(required ? 1 : 0);
}

ensureDeps();
run('npx', ['tsc', '-p', 'tsconfig.json']);

must('packages (containerd, runc, CNI, iptables)', 'bash', [script('k8s', 'install-packages.sh')]);
const prometheus = must('Prometheus', 'bash', [script('install-prometheus.sh')]);
const helm = must('helm', 'bash', [script('install-helm.sh')]);
must('Kubernetes binaries, etcd and the pause image', 'bash', [script('k8s', 'build.sh')]);
// The working tree by default, not HEAD: these tests judge the code they run beside (IMAGE_SOURCE=head: the last commit).
const imageTar = must('the image from the Dockerfile', 'bash', [script('image', 'build.sh')], { IMAGE_SOURCE: process.env.IMAGE_SOURCE ?? 'worktree' });
const curlTar = must("helm test's curl image", 'bash', [script('image', 'curl.sh')]);
const imageName = /geecache-(c[0-9a-f]+)\.tar$/.exec(imageTar);
if (!imageName) {
  console.error(`test:k8s: cannot read the image tag from ${imageTar}`);
  process.exit(1);
}

const cluster = script('k8s', 'cluster.sh');
// What the fault tests measure, for RELIABILITY.md: one JSON row a line, replaced by every run.
const results = join('.cache', 'k8s', 'reliability.jsonl');
rmSync(results, { force: true });
// Ctrl-C reaches the whole process group: the tests stop, and with these handlers we still go
// through `finally` below and take the cluster down.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const up = step('cluster up', 'bash', [cluster, 'up']);
let status = 1;
try {
  if (up.status === EXIT_CANNOT_RUN) {
    console.error('test:k8s: skipped: this machine cannot run the cluster (the reason is above)');
    status = required ? 1 : 0;
  } else if (up.status === 0) {
    const kubeconfig = step('kubeconfig', 'bash', [cluster, 'kubeconfig']).out;
    must('import the image', 'bash', [cluster, 'import', imageTar]);
    must('import the curl image', 'bash', [cluster, 'import', curlTar]);
    // deploy/ names the published image; the local build answers to that name too, so deploy/ applies as it is.
    must('tag the image as deploy/ names it', 'bash', [cluster, 'tag', `docker.io/library/geecache:${imageName[1]}`, 'ghcr.io/geecache/geecache:0.1.0']);
    const filters = process.argv.slice(2);
    const result = spawnSync(process.execPath, ['scripts/run-tests.mjs', '--k8s', '--concurrency=1', ...filters], {
      stdio: 'inherit',
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        GEECACHE_K8S_HELM: helm,
        GEECACHE_K8S_CLUSTER_SH: cluster,
        GEECACHE_K8S_NODE_IP: '10.250.0.1',
        GEECACHE_K8S_IMAGE_REPOSITORY: 'docker.io/library/geecache',
        GEECACHE_K8S_IMAGE_TAG: imageName[1],
        GEECACHE_K8S_CURL_REPOSITORY: 'docker.io/curlimages/curl',
        GEECACHE_K8S_CURL_TAG: '8.20.0',
        GEECACHE_K8S_PROMETHEUS: prometheus,
        GEECACHE_K8S_RESULTS: results,
      },
    });
    status = result.status ?? 1;
  }
} finally {
  if (process.env.K8S_KEEP === '1' && up.status === 0) console.error(`test:k8s: K8S_KEEP=1: the cluster stays up (bash ${cluster} down ends it)`);
  else step('cluster down', 'bash', [cluster, 'down']);
}
process.exit(status);
