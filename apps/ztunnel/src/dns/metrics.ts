// ztunnel's DNS metrics (facts §7.1, src/dns/metrics.rs), registered on the proxy's registry, plus one
// addition for bad input ztunnel does not count. Labels: request_query_type (lower case), request_protocol,
// source_canonical_service, source_canonical_revision ("unknown" when there is no source).
import type { DnsEvent } from '@ambient-ts/dns';
import type { Workload } from '@ambient-ts/discovery';
import { Counter, Histogram, type Registry } from 'prom-client';

const labelNames = [
  'request_query_type',
  'request_protocol',
  'source_canonical_service',
  'source_canonical_revision',
] as const;
type DnsLabel = (typeof labelNames)[number];

export class DnsMetrics {
  readonly requests: Counter<DnsLabel>;
  readonly upstreamRequests: Counter<DnsLabel>;
  readonly upstreamFailures: Counter<DnsLabel>;
  readonly upstreamDuration: Histogram<DnsLabel>;
  /** Addition: messages that never became a query (malformed, response, opcode, question count, too short). */
  readonly rejected: Counter<'reason' | 'request_protocol'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'istio_dns_requests_total',
      help: 'Total number of DNS requests (unstable)',
      labelNames,
      registers,
    });
    this.upstreamRequests = new Counter({
      name: 'istio_dns_upstream_requests_total',
      help: 'Total number of DNS requests forwarded to upstream (unstable)',
      labelNames,
      registers,
    });
    this.upstreamFailures = new Counter({
      name: 'istio_dns_upstream_failures_total',
      help: 'Total number of DNS requests that failed to forward upstream (unstable)',
      labelNames,
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'istio_dns_upstream_request_duration_seconds',
      help: 'Total time in seconds Istio takes to get DNS response from upstream (unstable)',
      labelNames,
      buckets: [0.0005, 0.001, 0.01, 0.1, 1, 5],
      registers,
    });
    this.rejected = new Counter({
      name: 'istio_dns_rejected_requests_total',
      help: 'DNS messages answered FORMERR/NOTIMP or dropped before any lookup (addition, unstable)',
      labelNames: ['reason', 'request_protocol'],
      registers,
    });
  }

  record(event: DnsEvent<Workload>): void {
    if (event.kind === 'rejected') {
      this.rejected.inc({ reason: event.reason, request_protocol: event.protocol });
      return;
    }
    const labels = {
      request_query_type: event.question.type.toLowerCase(),
      request_protocol: event.protocol,
      source_canonical_service: event.client?.canonicalName || 'unknown',
      source_canonical_revision: event.client?.canonicalRevision || 'unknown',
    };
    this.requests.inc(labels);
    if (!event.upstream) return;
    this.upstreamRequests.inc(labels);
    this.upstreamDuration.observe(labels, event.upstream.seconds);
    if (event.upstream.error) this.upstreamFailures.inc(labels);
  }
}
