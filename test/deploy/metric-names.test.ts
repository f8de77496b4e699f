// metric-names.test.ts checks the PromQL name reader on the shapes the dashboard and the alerts use, and the registry's name list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportedMetricNames, metricNamesIn } from './metric-names.js';

describe('metricNamesIn', () => {
  const cases: Array<[string, string[]]> = [
    ['geecache_peers', ['geecache_peers']],
    ['up{job="a"} == 0', ['up']],
    [
      'sum by (cache) (rate(geecache_cache_hits_total{namespace=~"$namespace", job=~"$job"}[$__rate_interval])) / ignoring (cache) group_left () sum(rate(geecache_gets_total[5m]))',
      ['geecache_cache_hits_total', 'geecache_gets_total'],
    ],
    ['histogram_quantile(0.99, sum by (le) (rate(geecache_load_duration_seconds_bucket{le!="+Inf"}[5m])))', ['geecache_load_duration_seconds_bucket']],
    ['max by (namespace, job) (geecache_peers) != min without (pod, instance) (geecache_peers)', ['geecache_peers']],
    ['rate(a_total[5m] offset 1h30m) > 1e3 * 0.5 and on (group) b > bool 0x1F', ['a_total', 'b']],
    ['rate(errors_total[5m]) > 0 or rate(restarts_total{reason="error"}[5m]) > 0 unless c', ['c', 'errors_total', 'restarts_total']],
    // Braces, brackets and words inside strings are not selectors.
    ['label_replace(x{a="}"}, "dst", "$1 by (y) z", "src", "(.*)")', ['x']],
    ['count_values("version", nodejs_version_info) + topk(3, process_open_fds) + quantile(0.9, d)', ['d', 'nodejs_version_info', 'process_open_fds']],
    ['avg_over_time(e[10m:1m]) / NaN + Inf', ['e']],
    ['sum(rate(geecache:hits:rate5m[1m]))', ['geecache:hits:rate5m']],
  ];
  for (const [expr, names] of cases) {
    it(`reads ${names.join(', ')} from ${expr}`, () => assert.deepEqual(metricNamesIn(expr), names));
  }

  it('refuses __name__ matchers, whose names it cannot check', () => {
    assert.throws(() => metricNamesIn('{__name__=~"geecache_.*"}'), /__name__/);
  });
});

describe('exportedMetricNames', () => {
  it("lists the cache's counters and gauges, histograms by their series, and the default process metrics", async () => {
    const names = await exportedMetricNames();
    for (const name of ['geecache_gets_total', 'geecache_peers', 'geecache_peer_http_requests_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
      assert.ok(names.has(name), name);
    }
    for (const suffix of ['_bucket', '_sum', '_count']) assert.ok(names.has(`geecache_load_duration_seconds${suffix}`), suffix);
    assert.ok(!names.has('geecache_load_duration_seconds'), 'a histogram has no series of its bare name');
  });
});
