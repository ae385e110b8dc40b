// Istio's standard HTTP metrics as a waypoint reports them (l7-facts §5.1): istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes, with the standard
// label set plus response_code and grpc_response_status, exported through the proxy's prom-client
// registry. Samples are aggregated here per label set (prom-client would validate and hash the 29 labels
// on every observation); the registry reads the aggregates when scraped.
import type { Registry } from 'prom-client';
import { trafficLabelNames, type ProxyMetrics } from '@ambient-ts/telemetry';

export const httpLabelNames = [...trafficLabelNames, 'response_code', 'grpc_response_status'] as const;
export type HttpLabelName = (typeof httpLabelNames)[number];
export type HttpLabels = Record<HttpLabelName, string>;

/** Envoy's default histogram buckets (milliseconds). */
const durationBuckets = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000,
  3_600_000,
];
/** Powers of ten from 1 byte to 100 MB. */
const byteBuckets = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

interface Histogram {
  /** Per bucket (not cumulative) counts; the last slot is +Inf. */
  readonly counts: number[];
  sum: number;
}

interface Series {
  readonly labels: HttpLabels;
  requests: number;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
}

type SeriesHistogram = 'duration' | 'requestBytes' | 'responseBytes';
type MetricValue = { labels: Record<string, string | number>; value: number; metricName?: string };

function observe(histogram: Histogram, buckets: readonly number[], value: number): void {
  let index = 0;
  while (index < buckets.length && value > buckets[index]!) index++;
  histogram.counts[index]!++;
  histogram.sum += value;
}

function histogramValues(
  name: string,
  series: Iterable<Series>,
  key: SeriesHistogram,
  buckets: readonly number[],
): MetricValue[] {
  const values: MetricValue[] = [];
  for (const entry of series) {
    const histogram = entry[key];
    let cumulative = 0;
    buckets.forEach((bound, index) => {
      cumulative += histogram.counts[index]!;
      values.push({ metricName: `${name}_bucket`, labels: { ...entry.labels, le: bound }, value: cumulative });
    });
    cumulative += histogram.counts[buckets.length]!;
    values.push({ metricName: `${name}_bucket`, labels: { ...entry.labels, le: '+Inf' }, value: cumulative });
    values.push({ metricName: `${name}_sum`, labels: entry.labels, value: histogram.sum });
    values.push({ metricName: `${name}_count`, labels: entry.labels, value: cumulative });
  }
  return values;
}

export class HttpMetrics {
  readonly #series = new Map<string, Series>();

  constructor(metrics: ProxyMetrics) {
    const registry = metrics.registry;
    const all = () => this.#series.values();
    this.#register(registry, 'istio_requests_total', 'Total requests', 'counter', () =>
      [...all()].map((entry) => ({ labels: entry.labels, value: entry.requests })),
    );
    const histograms: [string, string, SeriesHistogram, readonly number[]][] = [
      ['istio_request_duration_milliseconds', 'Request duration in milliseconds', 'duration', durationBuckets],
      ['istio_request_bytes', 'Request size in bytes (headers and body)', 'requestBytes', byteBuckets],
      ['istio_response_bytes', 'Response size in bytes (headers and body)', 'responseBytes', byteBuckets],
    ];
    for (const [name, help, key, buckets] of histograms) {
      this.#register(registry, name, help, 'histogram', () => histogramValues(name, all(), key, buckets));
    }
  }

  #register(
    registry: Registry,
    name: string,
    help: string,
    type: 'counter' | 'histogram',
    values: () => MetricValue[],
  ): void {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    };
    registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  record(labels: HttpLabels, sample: { durationMs: number; requestBytes: number; responseBytes: number }): void {
    const key = httpLabelNames.map((name) => labels[name]).join('\u0000');
    let series = this.#series.get(key);
    if (!series) {
      const empty = (buckets: readonly number[]): Histogram => ({
        counts: new Array<number>(buckets.length + 1).fill(0),
        sum: 0,
      });
      series = {
        labels,
        requests: 0,
        duration: empty(durationBuckets),
        requestBytes: empty(byteBuckets),
        responseBytes: empty(byteBuckets),
      };
      this.#series.set(key, series);
    }
    series.requests++;
    observe(series.duration, durationBuckets, sample.durationMs);
    observe(series.requestBytes, byteBuckets, sample.requestBytes);
    observe(series.responseBytes, byteBuckets, sample.responseBytes);
  }
}
