import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../../src/engine/group.js';
import { acceptsSender, receiveHanded, type HandoffMembership } from '../../../src/engine/handoff/receiver.js';

const member = 'http://127.0.0.1:1';
const membership: HandoffMembership = {
  acceptsHandoffFrom: (sender) => sender === member || sender === 'http://[::1]:1',
  ownsWithout: (_sender, key) => key !== 'not-mine',
};

test('a sender is taken when it is a member the window accepts and its URL names the address the request came from', () => {
  assert.equal(acceptsSender(member, '127.0.0.1', membership), true);
  assert.equal(acceptsSender(member, '::ffff:127.0.0.1', membership), true, 'an IPv4-mapped address');
  assert.equal(acceptsSender('http://[::1]:1', '::1', membership), true, 'a bracketed IPv6 host');
  assert.equal(acceptsSender(member, '127.0.0.2', membership), false, 'from another address');
  assert.equal(acceptsSender('http://127.0.0.1:2', '127.0.0.1', membership), false, 'not a member');
  assert.equal(acceptsSender(undefined, '127.0.0.1', membership), false, 'no header');
  assert.equal(acceptsSender([member], '127.0.0.1', membership), false, 'the header twice');
  assert.equal(acceptsSender('not a url', '127.0.0.1', membership), false);
});

test('receiveHanded stores the values this process owns without the sender, and says how many', async () => {
  const group = new Group({ name: 'g', cacheBytes: 1 << 20, getter: async () => assert.fail('loaded') });
  const values = [
    { key: 'mine', value: Buffer.from('handed'), expiresAt: 0 },
    { key: 'not-mine', value: Buffer.from('x'), expiresAt: 0 },
  ];
  assert.equal(receiveHanded(group.handoff, member, values, membership), 1);
  assert.equal((await group.get('mine')).toString(), 'handed');
  assert.deepEqual([group.stats().handoffStored, group.stats().handoffRefused], [1, 1]);
});
