// latency-histogram.ts is a Prometheus histogram whose per-label-set recorders observe without allocating.
import type { Metric, OpenMetricsContentType, PrometheusContentType, Registry } from 'prom-client';

/** One label set's view of a histogram: `observe` is a bucket scan and three increments. */
export interface Recorder {
  /** Records one value (seconds for latencies). Throws a TypeError on NaN or ±Infinity, as prom-client does. */
  observe(value: number): void;
}

export type LabelValue = string | number;

export interface LatencyHistogramOptions<L extends string> {
  /** Metric name, e.g. `geecache_api_request_duration_seconds`. Required. */
  name: string;
  /** The `# HELP` text. Required. */
  help: string;
  /** Label names, in the order they are printed. Default: none. `le` is reserved. */
  labelNames?: readonly L[];
  /** Upper bounds, finite and strictly increasing; `+Inf` is implied. Required. */
  buckets: readonly number[];
  /** Registries to serve this histogram from. Default: none (never prom-client's global one). */
  registers?: ReadonlyArray<Registry<PrometheusContentType> | Registry<OpenMetricsContentType>>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The counts of one label set. Buckets are stored per bucket and summed up at scrape time. */
class Series implements Recorder {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    /** Printed after `le`; one stable object per series, so the Registry can cache its formatted form. */
    readonly labels: Readonly<Record<string, LabelValue>>,
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`histogram value is not a finite number: ${value}`);
    // A linear scan, like prom-client's: latencies sit mostly in the first buckets, so it usually
    // stops after one or two comparisons. Values above the last bound only count towards +Inf.
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** One exported sample, in the shape prom-client's Histogram exports. */
interface Sample {
  value: number;
  metricName: string;
  labels: Record<string, LabelValue>;
  sharedLabels?: Readonly<Record<string, LabelValue>>;
  exemplar?: null;
}

/**
 * A histogram with the same exposition as prom-client's Histogram (names, `# HELP`/`# TYPE` lines,
 * cumulative `_bucket` series with `le` first, then `_sum` and `_count`), served by a prom-client
 * Registry. Hot paths take a Recorder once with `child()` and call `observe(value)` on it, which
 * neither builds label objects nor hashes strings. `observe(labels, value)` stays for cold paths.
 */
export class LatencyHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  /** How prom-client's AggregatorRegistry combines cluster workers' values. */
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly L[];
  readonly buckets: readonly number[];
  private readonly bounds: Float64Array;
  private readonly bucketName: string;
  /** Label-set key (values joined by NUL) → series, in first-observed order, as prom-client prints them. */
  private readonly series = new Map<string, Series>();

  constructor(options: LatencyHistogramOptions<L>) {
    if (typeof options !== 'object' || options === null) throw new TypeError('LatencyHistogram: options must be an object');
    const { name, help, labelNames = [], buckets, registers = [] } = options;
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      throw new TypeError(`LatencyHistogram: name must be a Prometheus metric name, got ${JSON.stringify(name)}`);
    }
    if (typeof help !== 'string' || help === '') throw new TypeError(`LatencyHistogram ${name}: help must be a non-empty string`);
    if (!Array.isArray(labelNames)) throw new TypeError(`LatencyHistogram ${name}: labelNames must be an array`);
    for (const label of labelNames) {
      if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
        throw new TypeError(`LatencyHistogram ${name}: labelNames has an invalid label name ${JSON.stringify(label)}`);
      }
      if (label === 'le') throw new TypeError(`LatencyHistogram ${name}: labelNames must not contain "le", which is reserved for buckets`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`LatencyHistogram ${name}: labelNames has duplicates`);
    if (!Array.isArray(buckets) || buckets.length === 0) {
      throw new TypeError(`LatencyHistogram ${name}: buckets must be a non-empty array of upper bounds`);
    }
    for (let i = 0; i < buckets.length; i++) {
      const bound: unknown = buckets[i];
      if (typeof bound !== 'number' || !Number.isFinite(bound)) {
        throw new TypeError(`LatencyHistogram ${name}: buckets must be finite numbers (+Inf is implied), got ${String(bound)}`);
      }
      if (i > 0 && bound <= buckets[i - 1]!) throw new TypeError(`LatencyHistogram ${name}: buckets must be strictly increasing`);
    }
    if (!Array.isArray(registers)) throw new TypeError(`LatencyHistogram ${name}: registers must be an array of Registry`);

    this.name = name;
    this.help = help;
    this.labelNames = Object.freeze([...labelNames]);
    this.buckets = Object.freeze([...buckets]);
    this.bounds = Float64Array.from(buckets);
    this.bucketName = `${name}_bucket`;
    // The Registry reads only name, help, type, aggregator, get()/getForPromString() and reset(),
    // all of which this class has; its types just name prom-client's own classes.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The Recorder of one label set, created on first use and the same object afterwards.
   * Takes the values in `labelNames` order, or one object with every label. The series is
   * exported from then on, with zero counts until observed (prom-client's `zero(labels)`).
   */
  child(...values: LabelValue[]): Recorder;
  child(labels: Readonly<Record<L, LabelValue>>): Recorder;
  child(...args: unknown[]): Recorder {
    const first = args[0];
    if (args.length === 1 && typeof first === 'object' && first !== null) {
      return this.seriesFor(first as Readonly<Record<string, unknown>>);
    }
    if (args.length !== this.labelNames.length) {
      throw new TypeError(`${this.name}: child() takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${args.length}`);
    }
    const labels: Record<string, unknown> = {};
    this.labelNames.forEach((label, i) => (labels[label] = args[i]));
    return this.seriesFor(labels);
  }

  /** Cold-path form, compatible with prom-client's `Histogram.observe(labels, value)`. */
  observe(labels: Readonly<Record<L, LabelValue>>, value: number): void {
    this.seriesFor(labels).observe(value);
  }

  /**
   * Zeroes every series in place. Unlike prom-client, which forgets its series, this keeps them
   * (printed with zero counts) so that Recorders held by callers keep counting into what is exported.
   */
  reset(): void {
    for (const series of this.series.values()) series.zero();
  }

  /** What the Registry formats: bucket samples carry `le`, and the series labels as `sharedLabels`. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: Sample[]; aggregator: 'sum' }> {
    const values: Sample[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: this.buckets[i]! }, sharedLabels: series.labels, value: cumulative, metricName: this.bucketName, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: this.bucketName, exemplar: null },
        { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (Registry.getMetricsAsJSON, cluster aggregation): each sample's labels flattened, `le` first. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Sample[]; aggregator: 'sum' }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  private seriesFor(labels: Readonly<Record<string, unknown>>): Series {
    for (const key of Object.keys(labels)) {
      if (!(this.labelNames as readonly string[]).includes(key)) {
        throw new TypeError(`${this.name}: unknown label "${key}" (labels: ${this.labelNames.join(', ') || 'none'})`);
      }
    }
    let key = '';
    for (let i = 0; i < this.labelNames.length; i++) {
      const label = this.labelNames[i]!;
      const value = labels[label];
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new TypeError(`${this.name}: label "${label}" needs a string or number value, got ${value === undefined ? 'none' : typeof value}`);
      }
      // 200 and "200" print the same, so they are the same series (as in prom-client).
      key += i === 0 ? String(value) : `\u0000${String(value)}`;
    }
    let series = this.series.get(key);
    if (!series) {
      const own: Record<string, LabelValue> = {};
      for (const label of this.labelNames) own[label] = labels[label] as LabelValue;
      series = new Series(Object.freeze(own), this.bounds);
      this.series.set(key, series);
    }
    return series;
  }
}
