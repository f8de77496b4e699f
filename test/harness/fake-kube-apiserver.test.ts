// fake-kube-apiserver.test.ts checks the fake API server against @kubernetes/client-node's own informer and list client.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryV1Api, KubeConfig, ListWatch, makeInformer, type V1EndpointSlice } from '@kubernetes/client-node';
import { FakeKubeApiServer, endpointSlice, kubeConfigFor, parseLabelSelector, writeKubeConfigFile } from '../../harness/fake-kube-apiserver.js';
import { sleep } from '../../harness/wait.js';

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const selector = 'kubernetes.io/service-name=svc';
let server: FakeKubeApiServer;
let nsCounter = 0;

/** An informer on a fresh namespace that records every event as "verb:name" (or "error:<code>"). */
function informerFor(namespace: string) {
  const kc = kubeConfigFor(server);
  const api = kc.makeApiClient(DiscoveryV1Api);
  const informer = makeInformer<V1EndpointSlice>(
    kc,
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    () => api.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
    selector,
  );
  const events: string[] = [];
  const errors: unknown[] = [];
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (obj) => events.push(`${verb}:${obj.metadata?.name}`));
  informer.on('connect', () => events.push('connect'));
  informer.on('error', (err) => {
    errors.push(err);
    events.push('error');
  });
  return { informer, events, errors };
}

describe('FakeKubeApiServer with client-node 1.4', () => {
  before(async () => {
    server = await FakeKubeApiServer.start();
  });
  after(async () => {
    await server.close();
  });

  it('serves a list and a watch resumed from the list resourceVersion; connect fires before the list', async () => {
    const ns = `ns${++nsCounter}`;
    server.applySlice(ns, endpointSlice({ name: 'a', service: 'svc', endpoints: [{ ip: '10.0.0.1' }] }));
    server.applySlice(ns, endpointSlice({ name: 'other', service: 'other', endpoints: [{ ip: '10.0.0.9' }] }));
    const listRv = server.resourceVersion;
    const { informer, events } = informerFor(ns);
    try {
      await informer.start();
      assert.deepEqual(events, ['connect', 'add:a'], 'connect precedes the list; the other Service is filtered out');
      const watch = server.requests.filter((r) => r.kind === 'watch').at(-1);
      assert.equal(watch?.query.resourceVersion, String(listRv));
      assert.equal(watch?.query.labelSelector, selector);
      server.applySlice(ns, endpointSlice({ name: 'b', service: 'svc', endpoints: [{ ip: '10.0.0.2' }] }));
      server.applySlice(ns, endpointSlice({ name: 'a', service: 'svc', endpoints: [{ ip: '10.0.0.1', ready: false }] }));
      server.deleteSlice(ns, 'b');
      await waitFor(() => events.length === 5, 'three watch events');
      assert.deepEqual(events.slice(2), ['add:b', 'update:a', 'delete:b']);
      assert.equal(informer.list().length, 1);
      // makeInformer returns a ListWatch: KubernetesDiscovery builds one directly with its own Watch.
      assert.ok(informer instanceof ListWatch);
      assert.equal(informer.latestResourceVersion(), String(server.resourceVersion));
    } finally {
      await informer.stop();
    }
  });

  it('moves an object out of the selection as DELETED, into it as ADDED', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, events } = informerFor(ns);
    try {
      await informer.start();
      server.applySlice(ns, endpointSlice({ name: 'x', service: 'other', endpoints: [] }));
      server.applySlice(ns, endpointSlice({ name: 'x', service: 'svc', endpoints: [] }));
      server.applySlice(ns, endpointSlice({ name: 'x', service: 'other', endpoints: [] }));
      await waitFor(() => events.length === 3, 'add and delete');
      assert.deepEqual(events, ['connect', 'add:x', 'delete:x']);
    } finally {
      await informer.stop();
    }
  });

  it('a clean end of the watch is resumed from the last resourceVersion without a new list', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, events, errors } = informerFor(ns);
    try {
      await informer.start();
      const lists = server.counts.lists;
      server.endWatches();
      server.applySlice(ns, endpointSlice({ name: 'late', service: 'svc', endpoints: [] }));
      await waitFor(() => events.includes('add:late'), 'the event made while reconnecting');
      assert.equal(server.counts.lists, lists, 'no relist');
      assert.deepEqual(events, ['connect', 'connect', 'add:late']);
      assert.equal(errors.length, 0);
    } finally {
      await informer.stop();
    }
  });

  it('a watch from a compacted resourceVersion gets ERROR 410; the informer relists and fires delete for vanished objects', async () => {
    const ns = `ns${++nsCounter}`;
    server.applySlice(ns, endpointSlice({ name: 'gone', service: 'svc', endpoints: [] }));
    server.applySlice(ns, endpointSlice({ name: 'stays', service: 'svc', endpoints: [] }));
    const { informer, events, errors } = informerFor(ns);
    try {
      await informer.start();
      const lists = server.counts.lists;
      const expired = server.counts.expired;
      server.stallWatches(); // the informer misses the deletion...
      server.deleteSlice(ns, 'gone');
      server.compact(); // ...and history no longer has it
      server.endWatches();
      await waitFor(() => events.includes('delete:gone'), 'delete from the relist');
      assert.equal(server.counts.expired, expired + 1);
      assert.equal(server.counts.lists, lists + 1);
      assert.deepEqual(
        informer.list().map((s) => s.metadata?.name),
        ['stays'],
      );
      assert.equal(errors.length, 0, '410 is not an error event');
    } finally {
      await informer.stop();
    }
  });

  it('a dropped watch connection fires error (Premature close) and the informer stays stopped', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, events, errors } = informerFor(ns);
    try {
      await informer.start();
      const watches = server.counts.watches;
      server.dropWatches();
      await waitFor(() => errors.length === 1, 'the error');
      assert.equal((errors[0] as { code?: string }).code, 'ERR_STREAM_PREMATURE_CLOSE');
      await sleep(100);
      assert.equal(server.counts.watches, watches, 'no reconnect by itself');
      // start() again resumes from the last resourceVersion (no relist).
      const lists = server.counts.lists;
      await informer.start();
      assert.equal(server.counts.lists, lists);
      assert.deepEqual(events, ['connect', 'error', 'connect']);
    } finally {
      await informer.stop();
    }
  });

  it('403 on the list surfaces as error with code 403 (ApiException), on the watch with statusCode 403', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, errors } = informerFor(ns);
    server.forbid(true);
    try {
      await informer.start();
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as { code?: number }).code, 403);
      server.forbid(false);
      await informer.start();
      server.forbid(true);
      server.endWatches();
      await waitFor(() => errors.length === 2, 'the watch error');
      assert.equal((errors[1] as { statusCode?: number }).statusCode, 403);
    } finally {
      server.forbid(false);
      await informer.stop();
    }
  });

  it('stop() aborts the open watch, which itself fires an error (AbortError)', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, errors } = informerFor(ns);
    await informer.start();
    await waitFor(() => server.openWatches > 0, 'an open watch');
    await informer.stop();
    await waitFor(() => errors.length === 1, 'the abort error');
    assert.equal((errors[0] as Error).name, 'AbortError');
  });

  it('stop() during a connecting watch does not abort it: events still arrive (a client-node race)', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, events } = informerFor(ns);
    server.delayWatches(100);
    try {
      const started = informer.start();
      await waitFor(() => server.requests.some((r) => r.kind === 'watch' && r.path.includes(`/${ns}/`)), 'the watch request');
      await informer.stop();
      await started;
      server.applySlice(ns, endpointSlice({ name: 'after-stop', service: 'svc', endpoints: [] }));
      await waitFor(() => events.includes('add:after-stop'), 'an event after stop()', 1000);
    } finally {
      server.delayWatches(0);
      await informer.stop(); // now the request is known and gets aborted
    }
  });

  it('going away and coming back on the same port: ECONNREFUSED while down, then resumes', async () => {
    const ns = `ns${++nsCounter}`;
    const { informer, events, errors } = informerFor(ns);
    try {
      await informer.start();
      const port = server.port;
      await server.stop();
      await waitFor(() => errors.length === 1, 'the error when the server goes');
      await informer.start();
      assert.equal(errors.length, 2);
      assert.match(String((errors[1] as Error).message), /ECONNREFUSED/);
      server.applySlice(ns, endpointSlice({ name: 'while-down', service: 'svc', endpoints: [] }));
      await server.restart();
      assert.equal(server.port, port);
      await informer.start();
      await waitFor(() => events.includes('add:while-down'), 'the event made while down');
    } finally {
      await server.restart();
      await informer.stop();
    }
  });

  it('answers a too-old exact list with 410 and a bad selector with 400', async () => {
    const ns = `ns${++nsCounter}`;
    const api = kubeConfigFor(server).makeApiClient(DiscoveryV1Api);
    server.applySlice(ns, endpointSlice({ name: 'a', service: 'svc', endpoints: [] }));
    const list = await api.listNamespacedEndpointSlice({ namespace: ns });
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0]?.metadata?.namespace, ns);
    server.applySlice(ns, endpointSlice({ name: 'b', service: 'svc', endpoints: [] }));
    server.compact();
    await assert.rejects(
      api.listNamespacedEndpointSlice({ namespace: ns, resourceVersion: list.metadata?.resourceVersion ?? '', resourceVersionMatch: 'Exact' }),
      (err: { code?: number }) => err.code === 410,
    );
    await assert.rejects(api.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'a b c' }), (err: { code?: number }) => err.code === 400);
  });

  it('sends BOOKMARK events to watches that ask for them', async () => {
    const ns = `ns${++nsCounter}`;
    const res = await fetch(`${server.url}/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?watch=true&allowWatchBookmarks=true&resourceVersion=${server.resourceVersion}`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    server.bookmark();
    const { value } = await reader.read();
    const event = JSON.parse(new TextDecoder().decode(value)) as { type: string; object: { metadata: { resourceVersion: string } } };
    assert.equal(event.type, 'BOOKMARK');
    assert.equal(event.object.metadata.resourceVersion, String(server.resourceVersion));
    await reader.cancel();
  });

  it('parses equality- and set-based label selectors', () => {
    assert.deepEqual(parseLabelSelector('a=b, c!=d,e in (f, g),!h,i'), [
      { key: 'a', op: 'in', values: ['b'] },
      { key: 'c', op: 'notin', values: ['d'] },
      { key: 'e', op: 'in', values: ['f', 'g'] },
      { key: 'h', op: '!exists', values: [] },
      { key: 'i', op: 'exists', values: [] },
    ]);
    assert.throws(() => parseLabelSelector('a b'));
  });

  it('writes a kubeconfig file that client-node loads (insecure-skip-tls-verify for http)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geecache-kube-'));
    try {
      const path = writeKubeConfigFile(server, join(dir, 'config'));
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      assert.equal(kc.getCurrentCluster()?.server, server.url);
      assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
      const list = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'empty' });
      assert.deepEqual(list.items, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
