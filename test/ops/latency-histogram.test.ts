import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { LatencyHistogram } from '../../src/ops/latency-histogram.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAME = 'geecache_test_duration_seconds';
const HELP = 'Time to do a thing, by group and code.';

type Labels = { group: string; code: string | number };

/** The same metric twice: prom-client's Histogram in one registry, ours in another. */
function pair(contentType?: RegistryContentType) {
  const registry = () => {
    const made = new Registry();
    // prom-client's typings fix the content type by type parameter; the class switches at run time.
    if (contentType) (made as unknown as Registry<RegistryContentType>).setContentType(contentType);
    return made;
  };
  const reference = registry();
  const ours = registry();
  const config = { name: NAME, help: HELP, labelNames: ['group', 'code'] as const, buckets: BUCKETS };
  const promHistogram = new Histogram({ ...config, registers: [reference] });
  const histogram = new LatencyHistogram({ ...config, registers: [ours] });
  return { reference, ours, promHistogram, histogram };
}

/** Every bound exactly, values just around them, below the first and above the last bound. */
function observations(): Array<[Labels, number]> {
  const values = [0, -0.001, 1e-7, 11, 1000, 0.3, 0.000_123_4, 0.1 + 0.2];
  for (const bound of BUCKETS) values.push(bound, bound * (1 + 1e-12), bound * (1 - 1e-12));
  const sets: Labels[] = [{ group: 'scores', code: 200 }, { group: 'scores', code: 404 }, { group: 'a"b\\c\nd', code: '' }, { group: '', code: 500 }];
  const out: Array<[Labels, number]> = [];
  values.forEach((value, i) => {
    out.push([sets[i % sets.length]!, value]);
    out.push([sets[(i * 7 + 1) % sets.length]!, value / 3]);
  });
  return out;
}

test('text output equals prom-client Histogram line for line, over bucket boundaries and several label sets', async () => {
  const { reference, ours, promHistogram, histogram } = pair();
  assert.equal(await ours.metrics(), await reference.metrics(), 'empty histograms print the same');
  for (const [labels, value] of observations()) {
    promHistogram.observe(labels, value);
    histogram.observe(labels, value);
  }
  const expected = (await reference.metrics()).split('\n');
  const actual = (await ours.metrics()).split('\n');
  assert.ok(expected.length > 4 * (BUCKETS.length + 3), 'every label set was printed');
  assert.deepEqual(actual, expected);
  assert.ok(actual.includes(`${NAME}_bucket{le="+Inf",group="scores",code="200"} ${observations().filter(([l]) => l.group === 'scores' && l.code === 200).length}`));
});

test('recorders from child() count into the same series as observe(labels) and print the same as prom-client', async () => {
  const { reference, ours, promHistogram, histogram } = pair();
  const hit = histogram.child({ group: 'scores', code: 200 });
  assert.equal(histogram.child({ group: 'scores', code: 200 }), hit, 'one recorder per label set');
  assert.equal(histogram.child('scores', 200), hit, 'positional values in labelNames order');
  assert.equal(histogram.child('scores', '200'), hit, '200 and "200" print the same, so they are one series');
  const notFound = histogram.child('scores', 404);
  for (const [i, value] of [0.0001, 0.0005, 0.0007, 0.001, 3, 10, 10.5].entries()) {
    const code = i % 3 === 1 ? 404 : 200; // first 200, then 404: series print in the order they were created
    promHistogram.observe({ group: 'scores', code }, value);
    (code === 200 ? hit : notFound).observe(value);
  }
  histogram.observe({ group: 'scores', code: '200' }, 0.002);
  promHistogram.observe({ group: 'scores', code: '200' }, 0.002);
  assert.deepEqual((await ours.metrics()).split('\n'), (await reference.metrics()).split('\n'));
  assert.deepEqual(await ours.getMetricsAsJSON(), await reference.getMetricsAsJSON());
});

test('JSON, OpenMetrics and default labels match prom-client too', async () => {
  for (const contentType of [undefined, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
    const { reference, ours, promHistogram, histogram } = pair(contentType);
    for (const registry of [reference, ours]) registry.setDefaultLabels({ pod: 'geecache-0' });
    for (const [labels, value] of observations()) {
      promHistogram.observe(labels, value);
      histogram.observe(labels, value);
    }
    assert.equal(await ours.metrics(), await reference.metrics());
    assert.deepEqual(await ours.getMetricsAsJSON(), await reference.getMetricsAsJSON());
    assert.deepEqual(await histogram.get(), await promHistogram.get());
  }
});

test('child() exports its series from creation, with zero counts, as prom-client does after zero(labels)', async () => {
  const { reference, ours, promHistogram, histogram } = pair();
  histogram.child('scores', 200);
  promHistogram.zero({ group: 'scores', code: 200 });
  assert.equal(await ours.metrics(), await reference.metrics());
  assert.match(await ours.metrics(), new RegExp(`^${NAME}_count\\{group="scores",code="200"\\} 0$`, 'm'));
});

test('a histogram without labels prints like prom-client once observed', async () => {
  const reference = new Registry();
  const ours = new Registry();
  const promHistogram = new Histogram({ name: NAME, help: HELP, buckets: [0.1, 1], registers: [reference] });
  const histogram = new LatencyHistogram({ name: NAME, help: HELP, buckets: [0.1, 1], registers: [ours] });
  for (const value of [0.1, 0.5, 2]) {
    promHistogram.observe(value);
    histogram.child().observe(value);
  }
  assert.equal(await ours.metrics(), await reference.metrics());
});

test('scraping does not reset: counts keep growing across scrapes', async () => {
  const { ours, histogram } = pair();
  const recorder = histogram.child('scores', 200);
  const countLine = async () => (await ours.metrics()).split('\n').find((line) => line.startsWith(`${NAME}_count{`));
  recorder.observe(0.001);
  assert.equal(await countLine(), `${NAME}_count{group="scores",code="200"} 1`);
  recorder.observe(0.001);
  recorder.observe(20);
  assert.equal(await countLine(), `${NAME}_count{group="scores",code="200"} 3`);
  const text = await ours.metrics();
  assert.match(text, new RegExp(`^${NAME}_bucket\\{le="0.001",group="scores",code="200"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^${NAME}_bucket\\{le="10",group="scores",code="200"\\} 2$`, 'm'));
  assert.match(text, new RegExp(`^${NAME}_bucket\\{le="\\+Inf",group="scores",code="200"\\} 3$`, 'm'));
  assert.match(text, new RegExp(`^${NAME}_sum\\{group="scores",code="200"\\} 20.002$`, 'm'));
});

test('reset() zeroes in place, so recorders held by callers keep counting into what is exported', async () => {
  const { ours, histogram } = pair();
  const recorder = histogram.child('scores', 200);
  recorder.observe(0.3);
  ours.resetMetrics();
  assert.match(await ours.metrics(), new RegExp(`^${NAME}_count\\{group="scores",code="200"\\} 0$`, 'm'));
  recorder.observe(0.3);
  const text = await ours.metrics();
  assert.match(text, new RegExp(`^${NAME}_count\\{group="scores",code="200"\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^${NAME}_bucket\\{le="0.25",group="scores",code="200"\\} 0$`, 'm'));
  assert.match(text, new RegExp(`^${NAME}_bucket\\{le="0.5",group="scores",code="200"\\} 1$`, 'm'));
});

test('invariants after every observation: cumulative buckets never decrease and +Inf equals _count', async () => {
  const { ours, histogram } = pair();
  const recorders = [histogram.child('a', 200), histogram.child('b', 500)];
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 60; i++) {
    recorders[i % 2]!.observe(random() ** 4 * 15);
    const { values } = await histogram.get();
    for (const group of ['a', 'b']) {
      const buckets = values.filter((v) => v.metricName === `${NAME}_bucket` && v.labels.group === group);
      const count = values.find((v) => v.metricName === `${NAME}_count` && v.labels.group === group)!.value;
      for (let j = 1; j < buckets.length; j++) assert.ok(buckets[j]!.value >= buckets[j - 1]!.value);
      assert.equal(buckets.at(-1)!.labels.le, '+Inf');
      assert.equal(buckets.at(-1)!.value, count);
    }
  }
  assert.equal((await ours.metrics()).split('\n').filter((line) => line.startsWith(`${NAME}_count`)).length, 2);
});

test('bad values and labels throw TypeErrors that say what is wrong', () => {
  const { histogram } = pair();
  const recorder = histogram.child('scores', 200);
  assert.throws(() => recorder.observe(Number.NaN), { name: 'TypeError', message: /finite/ });
  assert.throws(() => recorder.observe(Number.POSITIVE_INFINITY), TypeError);
  assert.throws(() => histogram.child('scores'), { name: 'TypeError', message: /takes 2 label values \(group, code\), got 1/ });
  assert.throws(() => histogram.observe({ group: 'scores' } as Labels, 1), { name: 'TypeError', message: /label "code"/ });
  assert.throws(() => histogram.observe({ group: 'scores', code: 200, pod: 'x' } as Labels, 1), { name: 'TypeError', message: /unknown label "pod"/ });
});

test('options are validated with a TypeError naming the option', () => {
  const base = { name: NAME, help: HELP, labelNames: ['group'], buckets: [0.1, 1] };
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ name: 'has space' }, /name/],
    [{ name: undefined }, /name/],
    [{ help: '' }, /help/],
    [{ labelNames: 'group' }, /labelNames/],
    [{ labelNames: ['le'] }, /labelNames.*"le"/],
    [{ labelNames: ['group', 'group'] }, /labelNames has duplicates/],
    [{ labelNames: ['1st'] }, /labelNames/],
    [{ buckets: [] }, /buckets/],
    [{ buckets: undefined }, /buckets/],
    [{ buckets: [1, 0.1] }, /buckets must be strictly increasing/],
    [{ buckets: [0.1, 0.1] }, /buckets must be strictly increasing/],
    [{ buckets: [0.1, Number.POSITIVE_INFINITY] }, /buckets must be finite/],
    [{ buckets: [0.1, '1'] }, /buckets must be finite/],
    [{ registers: new Registry() }, /registers/],
  ];
  for (const [override, message] of bad) {
    const options = { ...base, ...override } as unknown as ConstructorParameters<typeof LatencyHistogram>[0];
    assert.throws(() => new LatencyHistogram(options), { name: 'TypeError', message }, JSON.stringify(override));
  }
  assert.throws(() => new LatencyHistogram(null as unknown as ConstructorParameters<typeof LatencyHistogram>[0]), TypeError);
});

test('registers in every given registry, none by default, and the registry refuses a second metric of the same name', async () => {
  const one = new Registry();
  const two = new Registry();
  const histogram = new LatencyHistogram({ name: NAME, help: HELP, buckets: [1], registers: [one, two] });
  histogram.child().observe(0.5);
  assert.equal(await one.metrics(), await two.metrics());
  assert.match(await one.metrics(), /^# TYPE geecache_test_duration_seconds histogram$/m);
  assert.throws(() => new LatencyHistogram({ name: NAME, help: HELP, buckets: [1], registers: [one] }), /already been registered/);
  new LatencyHistogram({ name: NAME, help: HELP, buckets: [1] });
});
