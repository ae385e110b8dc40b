// The metrics ztunnel exports, registered on a dedicated prom-client Registry (never the global one).
// Stable metrics' HELP text never says "unstable"; every other metric's does (ztunnel's test_stats_exist).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { trafficLabelNames, type TrafficLabels } from './traffic-labels.ts';

export interface ProxyMetricsOptions {
  /** `component` label of istio_build, e.g. `ztunnel`. */
  component: string;
  /** `tag` label of istio_build (the version). */
  version: string;
  /** Also export process_* and nodejs_* metrics. Default true. */
  processMetrics?: boolean;
}

const unstable = (help: string): string => `${help} (unstable)`;

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly connectionsOpened: Counter<keyof TrafficLabels>;
  readonly connectionsClosed: Counter<keyof TrafficLabels>;
  readonly connectionsFailed: Counter<keyof TrafficLabels>;
  readonly receivedBytes: Counter<keyof TrafficLabels>;
  readonly sentBytes: Counter<keyof TrafficLabels>;
  readonly socketsOpen: Gauge<'reporter'>;
  readonly xdsConnectionTerminations: Counter<'reason'>;
  readonly xdsMessages: Counter<'url'>;
  readonly xdsMessageBytes: Counter<'url'>;
  readonly onDemandDns: Counter<string>;
  readonly build: Gauge<'component' | 'tag'>;

  constructor(options: ProxyMetricsOptions) {
    const registers = [this.registry];
    const traffic = (name: string, help: string): Counter<keyof TrafficLabels> =>
      new Counter({ name, help, labelNames: trafficLabelNames, registers });
    this.connectionsOpened = traffic(
      'istio_tcp_connections_opened_total',
      'The total number of TCP connections opened',
    );
    this.connectionsClosed = traffic(
      'istio_tcp_connections_closed_total',
      'The total number of TCP connections closed',
    );
    this.receivedBytes = traffic(
      'istio_tcp_received_bytes_total',
      'The size of total bytes received during request in case of a TCP connection',
    );
    this.sentBytes = traffic(
      'istio_tcp_sent_bytes_total',
      'The size of total bytes sent during response in case of a TCP connection',
    );
    this.connectionsFailed = traffic(
      'istio_tcp_connections_failed_total',
      unstable('The total number of TCP connections that failed to establish'),
    );
    this.socketsOpen = new Gauge({
      name: 'istio_tcp_sockets_open',
      help: unstable('The current number of open TCP sockets'),
      labelNames: ['reporter'],
      registers,
    });
    this.xdsConnectionTerminations = new Counter({
      name: 'istio_xds_connection_terminations_total',
      help: unstable('The total number of completed connections to xds server'),
      labelNames: ['reason'],
      registers,
    });
    this.xdsMessages = new Counter({
      name: 'istio_xds_message_total',
      help: unstable('Total number of messages received'),
      labelNames: ['url'],
      registers,
    });
    this.xdsMessageBytes = new Counter({
      name: 'istio_xds_message_bytes_total',
      help: unstable('Total number of bytes received'),
      labelNames: ['url'],
      registers,
    });
    this.onDemandDns = new Counter({
      name: 'istio_on_demand_dns_total',
      help: unstable('The total number of requests that used on-demand DNS'),
      labelNames: [
        'source_workload',
        'source_canonical_service',
        'source_canonical_revision',
        'source_workload_namespace',
        'source_principal',
        'source_app',
        'source_version',
        'source_cluster',
        'hostname',
      ],
      registers,
    });
    this.build = new Gauge({
      name: 'istio_build',
      help: 'Istio component build info',
      labelNames: ['component', 'tag'],
      registers,
    });
    this.build.set({ component: options.component, tag: options.version }, 1);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
