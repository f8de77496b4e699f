// handoff.test.ts measures warm handoff on real processes whose membership changes through EndpointSlices:
// after each event every key is asked once more, and the origin counts what had to be loaded again.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { measureHandoff } from '../../harness/handoff-measure.js';

const KEYS = 1500;

it('scale 3 -> 4: the new pod peeks each key at its previous owner instead of loading it', async () => {
  const on = await measureHandoff('scale-up', { keys: KEYS, handoff: true });
  const off = await measureHandoff('scale-up', { keys: KEYS, handoff: false });
  assert.ok(on.reloads <= KEYS * 0.01, `handoff on: ${on.reloads} reloads of ${KEYS} keys`);
  // The new pod owns about a quarter of the keys: groupcache loads every one of them again.
  assert.ok(off.reloads >= KEYS * 0.15, `handoff off: ${off.reloads} reloads of ${KEYS} keys`);
  assert.deepEqual([on.failed, off.failed], [0, 0]);
});

it('scale 4 -> 3 (SIGTERM): the leaving pod hands its keys to their next owners', async () => {
  const on = await measureHandoff('scale-down', { keys: KEYS, handoff: true });
  assert.ok(on.reloads <= KEYS * 0.01, `${on.reloads} reloads of ${KEYS} keys`);
  assert.equal(on.failed, 0);
});

it('a rolling restart of all three pods keeps the cache warm', async () => {
  const on = await measureHandoff('rolling-restart', { keys: KEYS, handoff: true });
  assert.ok(on.reloads <= KEYS * 0.05, `${on.reloads} reloads of ${KEYS} keys`);
  assert.equal(on.failed, 0);
});

it('SIGKILL of one pod: nothing can be handed over, and no request through the others fails', async () => {
  const on = await measureHandoff('kill', { keys: KEYS, handoff: true });
  assert.equal(on.failed, 0, `${on.cut} requests were in flight on the killed pod`);
  assert.ok(on.reloads >= KEYS * 0.15, `the killed pod's share is loaded again: ${on.reloads}`);
});
