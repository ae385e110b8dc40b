// Istio's standard HTTP metrics as a waypoint reports them (l7-facts §5.1): istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes, with the standard
// label set plus response_code and grpc_response_status, registered on the proxy's registry.
import { Counter, Histogram } from 'prom-client';
import { trafficLabelNames, type ProxyMetrics } from '@ambient-ts/telemetry';

export const httpLabelNames = [...trafficLabelNames, 'response_code', 'grpc_response_status'] as const;
export type HttpLabelName = (typeof httpLabelNames)[number];
export type HttpLabels = Record<HttpLabelName, string>;

/** Envoy's default histogram buckets (milliseconds). */
const durationBuckets = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000,
  3_600_000,
];
/** Powers of ten from 1 byte to 100 MB, as Istio's byte histograms bucket. */
const byteBuckets = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

export class HttpMetrics {
  readonly requests: Counter<HttpLabelName>;
  readonly duration: Histogram<HttpLabelName>;
  readonly requestBytes: Histogram<HttpLabelName>;
  readonly responseBytes: Histogram<HttpLabelName>;

  constructor(metrics: ProxyMetrics) {
    const registers = [metrics.registry];
    const labelNames = httpLabelNames;
    this.requests = new Counter({ name: 'istio_requests_total', help: 'Total requests', labelNames, registers });
    this.duration = new Histogram({
      name: 'istio_request_duration_milliseconds',
      help: 'Request duration in milliseconds',
      labelNames,
      buckets: durationBuckets,
      registers,
    });
    this.requestBytes = new Histogram({
      name: 'istio_request_bytes',
      help: 'Request size in bytes (headers and body)',
      labelNames,
      buckets: byteBuckets,
      registers,
    });
    this.responseBytes = new Histogram({
      name: 'istio_response_bytes',
      help: 'Response size in bytes (headers and body)',
      labelNames,
      buckets: byteBuckets,
      registers,
    });
  }

  record(labels: HttpLabels, sample: { durationMs: number; requestBytes: number; responseBytes: number }): void {
    this.requests.inc(labels);
    this.duration.observe(labels, sample.durationMs);
    this.requestBytes.observe(labels, sample.requestBytes);
    this.responseBytes.observe(labels, sample.responseBytes);
  }
}
