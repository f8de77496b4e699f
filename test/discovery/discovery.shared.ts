// discovery.shared.ts is the contract every Discovery implementation must meet: static, Kubernetes and worker tests run it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Discovery } from '../../src/discovery/discovery.js';
import { canonicalPeers } from '../../src/engine/peer-url.js';
import { sleep } from '../../harness/wait.js';

export interface DiscoveryFixture {
  discovery: Discovery;
  /** Releases whatever create() set up (servers stay up; the suite closes the discovery itself). */
  cleanup?: () => Promise<void>;
}

export interface DiscoveryHarness {
  /** This process's own URL as the fixture configures it. */
  self: string;
  /** A discovery whose source lists `others` (and maybe self) as ready peers. */
  create(others: readonly string[]): Promise<DiscoveryFixture>;
  /** How long the first delivery may take (a worker thread loads client-node first). Default 5000. */
  firstDeliveryTimeoutMs?: number;
}

/** Polls `predicate` every 5 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export { sleep };

/** Asserts the invariant of every delivered list: canonical (sorted, unique) and containing self. */
export function assertCanonical(peers: readonly string[], self: string): void {
  assert.deepEqual([...peers], canonicalPeers(peers), 'peer list is sorted and de-duplicated');
  assert.ok(peers.includes(self), `peer list ${JSON.stringify(peers)} includes self ${self}`);
  for (const peer of peers) assert.ok(!peer.endsWith('/'), `peer ${peer} has no trailing slash`);
}

export function discoverySuite(name: string, harness: DiscoveryHarness): void {
  describe(`Discovery contract: ${name}`, () => {
    const others = ['http://10.0.0.9:8001', 'http://10.0.0.3:8001'];
    const firstDelivery = harness.firstDeliveryTimeoutMs ?? 5000;

    it('is empty and not listed before start(); close() before start() is fine', async () => {
      const { discovery, cleanup } = await harness.create(others);
      try {
        assert.equal(discovery.hasListed, false);
        assert.deepEqual(discovery.peers, []);
        await discovery.close();
        await discovery.close();
        let called = false;
        discovery.start(() => (called = true));
        await sleep(50);
        assert.equal(called, false, 'a closed discovery never delivers');
      } finally {
        await cleanup?.();
      }
    });

    it('delivers a canonical list with self, then hasListed flips and peers mirrors it', async () => {
      const { discovery, cleanup } = await harness.create(others);
      const delivered: (readonly string[])[] = [];
      try {
        discovery.start((peers) => {
          delivered.push(peers);
          assert.equal(discovery.hasListed, true, 'hasListed is true inside the first delivery');
          assert.deepEqual(discovery.peers, peers, 'peers mirrors the delivered list during delivery');
        });
        await waitFor(() => delivered.length > 0, 'the first delivery', firstDelivery);
        const first = delivered[0] ?? [];
        assertCanonical(first, harness.self);
        assert.deepEqual([...first], canonicalPeers([...others, harness.self]));
        assert.equal(discovery.hasListed, true);
        assert.deepEqual(discovery.peers, first);
        await sleep(100);
        assert.equal(delivered.length, 1, 'an unchanged source delivers once');
      } finally {
        await discovery.close();
        await cleanup?.();
      }
    });

    it('start() is idempotent and close() is idempotent, also concurrently', async () => {
      const { discovery, cleanup } = await harness.create(others);
      let firstCalls = 0;
      let secondCalls = 0;
      try {
        discovery.start(() => firstCalls++);
        discovery.start(() => secondCalls++);
        await waitFor(() => firstCalls > 0, 'the first delivery', firstDelivery);
        await sleep(50);
        assert.equal(firstCalls, 1);
        assert.equal(secondCalls, 0, 'a second start() neither restarts nor replaces the listener');
      } finally {
        await Promise.all([discovery.close(), discovery.close()]);
        await discovery.close();
        await cleanup?.();
      }
      assert.equal(discovery.hasListed, true, 'close() does not forget the last list');
    });

    it('includes self even when the source does not list it', async () => {
      const { discovery, cleanup } = await harness.create([]);
      const delivered: (readonly string[])[] = [];
      try {
        discovery.start((peers) => delivered.push(peers));
        await waitFor(() => delivered.length > 0, 'the first delivery', firstDelivery);
        assert.deepEqual(delivered[0], [harness.self]);
      } finally {
        await discovery.close();
        await cleanup?.();
      }
    });
  });
}
