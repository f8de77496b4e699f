// metric-names.ts reads the metric names out of PromQL expressions, and lists the series names the cache's own registry exports.
import { GroupRegistry } from '../../src/engine/group-registry.js';
import { PeerRing } from '../../src/engine/peer-ring.js';
import { createMetrics } from '../../src/ops/metrics.js';

/** Words of PromQL that look like metric names: aggregations, operators, modifiers, literals. */
const KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'inf', 'nan',
]);

/**
 * The metric names an expression selects, sorted, each once. Enough PromQL for
 * dashboards and alerts: strings, label matchers, ranges, grouping label lists,
 * numbers, durations and Grafana's $variables are taken out first, so that what
 * is left is functions (followed by a parenthesis), keywords and metric names.
 * A `__name__` matcher throws: the names it picks could not be checked.
 */
export function metricNamesIn(expr: string): string[] {
  if (/__name__/.test(expr)) throw new Error(`metricNamesIn: __name__ matchers are not supported: ${expr}`);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:.])(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)(?![\w:])/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = bare.slice(match.index + word.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}

/**
 * Every series name a cache process serves at /metrics, default process
 * metrics included: histograms as their _bucket, _sum and _count series (the
 * bare name selects nothing), summaries as themselves plus _sum and _count.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const ring = new PeerRing({
    self: 'http://127.0.0.1:1',
    createClient: () => {
      throw new Error('no peers here');
    },
  });
  // peerTraffic turns on the peer HTTP counters, as cache-node.ts does.
  const metrics = createMetrics(new GroupRegistry(), ring, { defaultMetrics: true, peerTraffic: { gets: 0, batches: 0, batchedKeys: 0, circuitTrips: 0 } });
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}
