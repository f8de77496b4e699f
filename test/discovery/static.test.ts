// static.test.ts runs the Discovery contract against StaticDiscovery, plus its option checks.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StaticDiscovery } from '../../src/discovery/static.js';
import { discoverySuite } from './discovery.shared.js';

const self = 'http://10.0.0.1:8001';

discoverySuite('StaticDiscovery', {
  self,
  create: async (others) => ({ discovery: new StaticDiscovery({ peers: others, self }) }),
});

describe('StaticDiscovery', () => {
  it('delivers synchronously on start(), de-duplicated, self added, trailing slashes dropped', () => {
    const discovery = new StaticDiscovery({ peers: ['http://b:1/', 'http://a:1', 'http://b:1', self], self: `${self}/` });
    let delivered: readonly string[] = [];
    discovery.start((peers) => (delivered = peers));
    assert.deepEqual(delivered, ['http://10.0.0.1:8001', 'http://a:1', 'http://b:1']);
    assert.equal(discovery.hasListed, true);
  });

  it('rejects an empty self or an empty peer, naming the option', () => {
    assert.throws(() => new StaticDiscovery({ peers: [], self: '' }), { name: 'TypeError', message: /"self"/ });
    assert.throws(() => new StaticDiscovery({ peers: [''], self }), { name: 'TypeError', message: /"peers"/ });
  });
});
