// circuit-breaker.test.ts walks the breaker through its states on a clock the test moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker } from '../../src/engine/circuit-breaker.js';

test('closed until `failures` requests in a row go unanswered; an answer in between starts the count again', () => {
  const breaker = new CircuitBreaker({ failures: 3, openMs: 100 });
  breaker.silent(0);
  breaker.silent(0);
  breaker.answered();
  breaker.silent(0);
  breaker.silent(0);
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.allow(0), true);
  breaker.silent(0);
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.trips, 1);
});

test('open lets nothing through until its time is up, then exactly one probe at a time', () => {
  const breaker = new CircuitBreaker({ failures: 1, openMs: 100, maxOpenMs: 250 });
  breaker.silent(1000);
  assert.equal(breaker.allow(1099), false);
  assert.equal(breaker.allow(1100), true, 'the probe');
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.allow(1100), false, 'only one probe');
  // A silent probe doubles the open time, up to maxOpenMs.
  breaker.silent(1100);
  assert.equal(breaker.allow(1299), false);
  assert.equal(breaker.allow(1300), true);
  breaker.silent(1300);
  assert.equal(breaker.allow(1549), false);
  assert.equal(breaker.allow(1550), true, 'capped at 250 ms');
  assert.equal(breaker.trips, 3);
  // An answered probe closes it, and the next trip opens for the base time again.
  breaker.answered();
  assert.equal(breaker.state, 'closed');
  breaker.silent(2000);
  assert.equal(breaker.allow(2099), false);
  assert.equal(breaker.allow(2100), true);
});

test('bad options are refused, naming them', () => {
  assert.throws(() => new CircuitBreaker({ failures: 0 }), /failures/);
  assert.throws(() => new CircuitBreaker({ openMs: 0 }), /openMs/);
  assert.throws(() => new CircuitBreaker({ openMs: 10, maxOpenMs: 5 }), /maxOpenMs/);
});
