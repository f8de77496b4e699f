import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Group } from '../../../src/engine/group.js';
import { receiveHanded, senderRefusal, type HandoffMembership } from '../../../src/engine/handoff/receiver.js';

const member = 'http://127.0.0.1:1';
const membership: HandoffMembership = {
  handoffRefusal: (sender) => (sender === member || sender === 'http://[::1]:1' ? undefined : sender === 'http://127.0.0.1:3' ? 'member' : 'unknown'),
  ownsWithout: (_sender, key) => key !== 'not-mine',
};

test('a sender is taken when it left within the window and its URL names the address the request came from', () => {
  assert.equal(senderRefusal(member, '127.0.0.1', membership), undefined);
  assert.equal(senderRefusal(member, '::ffff:127.0.0.1', membership), undefined, 'an IPv4-mapped address');
  assert.equal(senderRefusal('http://[::1]:1', '::1', membership), undefined, 'a bracketed IPv6 host');
  assert.equal(senderRefusal(member, '127.0.0.2', membership), 'wrong-address');
  assert.equal(senderRefusal('http://127.0.0.1:3', '127.0.0.1', membership), 'not-leaving', 'a member that has not left');
  assert.equal(senderRefusal('http://127.0.0.1:2', '127.0.0.1', membership), 'not-a-peer');
  assert.equal(senderRefusal(undefined, '127.0.0.1', membership), 'no-sender');
  assert.equal(senderRefusal([member], '127.0.0.1', membership), 'no-sender', 'the header twice');
  assert.equal(senderRefusal('not a url', '127.0.0.1', membership), 'wrong-address');
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
