// day5.test.ts runs the day-5 example as `npm run example` does: three processes, three concurrent gets of Tom,
// one lookup in the slow database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts } from '../../harness/ports.js';
import { startProcess } from '../support/processes.js';

test('the day-5 example answers Tom three times from one SlowDB lookup', async () => {
  const [api, ...peers] = await freePorts(4);
  const proc = startProcess(['dist/examples/day5/run.js', '--peers', peers.join(','), '--api-port', String(api)]);
  const timer = setTimeout(() => void proc.stop(), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  const output = proc.output();
  assert.equal(code, 0, output);
  assert.equal(output.match(/^630$/gm)?.length, 3, output);
  assert.equal(output.match(/\[SlowDB\] search key Tom/g)?.length, 1, output);
  assert.equal(output.match(/geecache is running at/g)?.length, 3, output);
});
