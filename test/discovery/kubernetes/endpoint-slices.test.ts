// endpoint-slices.test.ts checks how EndpointSlices become peer URLs (pure function, no server).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROLLER, MANAGED_BY_LABEL, peersFromSlices, isCountedEndpoint, type EndpointSliceLike } from '../../../src/discovery/kubernetes/endpoint-slices.js';
import { canonicalPeers, peerUrl } from '../../../src/engine/peer-url.js';
import { assertCanonical } from '../discovery.shared.js';

const self = 'http://10.0.0.1:8001';

const labels = { [MANAGED_BY_LABEL]: CONTROLLER };

/** A slice as the EndpointSlice controller makes it: its label, and every endpoint a Pod. */
function slice(name: string, endpoints: EndpointSliceLike['endpoints'], ports: EndpointSliceLike['ports'] = [{ name: 'peer', port: 8001 }]): EndpointSliceLike {
  return { metadata: { name, labels }, addressType: 'IPv4', ports, endpoints: endpoints?.map((endpoint) => ({ targetRef: { kind: 'Pod' }, ...endpoint })) };
}

describe('peersFromSlices', () => {
  it("takes only the EndpointSlice controller's slices, and in them only Pods; names the rest once", () => {
    const forged = { metadata: { name: 'forged' }, ports: [{ name: 'peer', port: 8001 }], endpoints: [{ addresses: ['10.0.0.66'], targetRef: { kind: 'Pod' } }] };
    const mislabelled = { ...forged, metadata: { name: 'mislabelled', labels: { [MANAGED_BY_LABEL]: 'someone-else' } } };
    const notPods = slice('not-pods', [{ addresses: ['10.0.0.67'], targetRef: { kind: 'Node' } }, { addresses: ['10.0.0.68'], targetRef: undefined }, { addresses: ['10.0.0.2'] }]);
    const result = peersFromSlices([forged, mislabelled, notPods, slice('real', [{ addresses: ['10.0.0.3'] }])], { self });
    assert.deepEqual(result.peers, [self, 'http://10.0.0.2:8001', 'http://10.0.0.3:8001']);
    assert.deepEqual(result.foreignSlices, ['forged', 'mislabelled', 'not-pods']);
  });

  it("gives every peer this pod's own scheme: https:// peers for an https:// self", () => {
    const result = peersFromSlices([slice('real', [{ addresses: ['10.0.0.3'] }, { addresses: ['fd00::4'] }])], { self: 'https://10.0.0.1:8001' });
    assert.deepEqual(result.peers, ['https://10.0.0.1:8001', 'https://10.0.0.3:8001', 'https://[fd00::4]:8001']);
    assert.equal(peerUrl('10.1.2.3', 8001, 'https'), 'https://10.1.2.3:8001');
  });

  it('merges all slices of the Service and always includes self', () => {
    const result = peersFromSlices(
      [slice('a', [{ addresses: ['10.0.0.3'], conditions: { ready: true } }]), slice('b', [{ addresses: ['10.0.0.2'], conditions: { ready: true } }])],
      { self },
    );
    assert.deepEqual(result.peers, ['http://10.0.0.1:8001', 'http://10.0.0.2:8001', 'http://10.0.0.3:8001']);
    assert.equal(result.selfListed, false);
  });

  it('reports selfListed when self is a ready endpoint, without listing it twice', () => {
    const result = peersFromSlices([slice('a', [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }])], { self });
    assert.deepEqual(result.peers, ['http://10.0.0.1:8001', 'http://10.0.0.2:8001']);
    assert.equal(result.selfListed, true);
  });

  it('follows the documented nil semantics: ready nil = true, terminating nil = false', () => {
    assert.equal(isCountedEndpoint({ addresses: ['x'] }), true, 'no conditions at all');
    assert.equal(isCountedEndpoint({ addresses: ['x'], conditions: {} }), true, 'empty conditions');
    assert.equal(isCountedEndpoint({ addresses: ['x'], conditions: { ready: false } }), false);
    assert.equal(isCountedEndpoint({ addresses: ['x'], conditions: { ready: true, terminating: true } }), false, 'terminating leaves at once');
    assert.equal(isCountedEndpoint({ addresses: ['x'], conditions: { ready: false, serving: true, terminating: true } }), false);
    assert.equal(isCountedEndpoint({ addresses: ['x'], conditions: { ready: true, serving: false } }), true, 'serving is not consulted');
  });

  it('drops not-ready and terminating endpoints', () => {
    const result = peersFromSlices(
      [
        slice('a', [
          { addresses: ['10.0.0.2'], conditions: { ready: false, serving: false, terminating: false } },
          { addresses: ['10.0.0.3'], conditions: { ready: true, serving: true, terminating: true } },
          { addresses: ['10.0.0.4'], conditions: { ready: true, serving: true, terminating: false } },
        ]),
      ],
      { self },
    );
    assert.deepEqual(result.peers, ['http://10.0.0.1:8001', 'http://10.0.0.4:8001']);
  });

  it('uses the port named portName, per slice, and reports slices without it', () => {
    const slices = [
      slice('a', [{ addresses: ['10.0.0.2'] }], [{ name: 'http', port: 8080 }, { name: 'peer', port: 8001 }]),
      slice('b', [{ addresses: ['10.0.0.3'] }], [{ name: 'peer', port: 9001 }]),
      slice('c', [{ addresses: ['10.0.0.4'] }], [{ name: 'http', port: 8080 }]),
      slice('d', [], [{ name: 'http', port: 8080 }]),
    ];
    const result = peersFromSlices(slices, { self });
    assert.deepEqual(result.peers, ['http://10.0.0.1:8001', 'http://10.0.0.2:8001', 'http://10.0.0.3:9001']);
    assert.deepEqual(result.slicesWithoutPort, ['c'], 'an empty slice without the port is not worth a warning');
    const http = peersFromSlices(slices, { self, portName: 'http' });
    assert.deepEqual(http.peers, ['http://10.0.0.1:8001', 'http://10.0.0.2:8080', 'http://10.0.0.4:8080']);
  });

  it('matches an unnamed port (single-port Service) with portName ""', () => {
    const result = peersFromSlices([slice('a', [{ addresses: ['10.0.0.2'] }], [{ port: 8001 }])], { self, portName: '' });
    assert.deepEqual(result.peers, [self, 'http://10.0.0.2:8001']);
  });

  it('brackets IPv6 addresses and leaves FQDNs alone', () => {
    assert.equal(peerUrl('fd00::1', 8001), 'http://[fd00::1]:8001');
    assert.equal(peerUrl('10.1.2.3', 8001), 'http://10.1.2.3:8001');
    assert.equal(peerUrl('pod-0.geecache.default.svc', 8001), 'http://pod-0.geecache.default.svc:8001');
    const v6self = 'http://[fd00::1]:8001';
    const result = peersFromSlices([{ ...slice('v6', [{ addresses: ['fd00::2'] }, { addresses: ['fd00::1'] }]), addressType: 'IPv6' }], {
      self: v6self,
    });
    assert.deepEqual(result.peers, ['http://[fd00::1]:8001', 'http://[fd00::2]:8001']);
    assert.equal(result.selfListed, true);
  });

  it('uses only the first address of an endpoint and skips endpoints without one', () => {
    const result = peersFromSlices([slice('a', [{ addresses: ['10.0.0.2', '10.0.0.99'] }, { addresses: [] }, {}])], { self });
    assert.deepEqual(result.peers, [self, 'http://10.0.0.2:8001']);
  });

  it('de-duplicates an endpoint present in two slices while it moves between them', () => {
    const result = peersFromSlices([slice('a', [{ addresses: ['10.0.0.2'] }]), slice('b', [{ addresses: ['10.0.0.2'] }])], { self });
    assert.deepEqual(result.peers, [self, 'http://10.0.0.2:8001']);
  });

  it('gives [self] for no slices, slices without endpoints or ports, and missing fields', () => {
    assert.deepEqual(peersFromSlices([], { self }).peers, [self]);
    assert.deepEqual(peersFromSlices([{}, { endpoints: [] }, { ports: [] }], { self }).peers, [self]);
  });

  it('always returns a canonical list containing self (randomized)', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const slices: EndpointSliceLike[] = [];
      const expected: string[] = [];
      for (let s = 0; s < 1 + Math.floor(random() * 4); s++) {
        const port = 8000 + Math.floor(random() * 3);
        const endpoints = [];
        for (let e = 0; e < Math.floor(random() * 6); e++) {
          const ip = `10.0.0.${1 + Math.floor(random() * 8)}`;
          const ready = random() < 0.7 ? true : random() < 0.5 ? false : undefined;
          const terminating = random() < 0.2 ? true : undefined;
          endpoints.push({ addresses: [ip], conditions: { ready, terminating } });
          if (ready !== false && terminating !== true) expected.push(`http://${ip}:${port}`);
        }
        slices.push(slice(`s${s}`, endpoints, [{ name: 'peer', port }]));
      }
      const { peers } = peersFromSlices(slices, { self });
      assertCanonical(peers, self);
      assert.deepEqual(peers, canonicalPeers([...expected, self]));
    }
  });
});
