// One place that turns a finished request or TCP connection into Istio's metrics and an access-log
// line. Request lines use Envoy's JSON access-log keys (l7-facts §5.3) plus the source and destination
// the waypoint resolved; TCP lines use ztunnel's connection fields.
import type { Logging, ProxyMetrics } from '@ambient-ts/telemetry';
import { formatDuration } from '@ambient-ts/telemetry';
import type { HttpMetrics } from './http-metrics.ts';
import { httpLabels, waypointLabels, type ReportContext } from './labels.ts';

type Logger = ReturnType<Logging['scope']>;

export interface RequestReport {
  readonly context: ReportContext;
  readonly protocol: 'http' | 'grpc';
  readonly startTime: Date;
  readonly durationMs: number;
  readonly method: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly status: number;
  /** The gRPC status the client got (trailer, trailers-only header or gRPC local reply), for gRPC requests. */
  readonly grpcStatus?: string | undefined;
  readonly flags: string;
  readonly details: string;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly upstreamServiceTimeMs?: number | undefined;
  readonly headers: {
    readonly userAgent?: string | undefined;
    readonly xForwardedFor?: string | undefined;
    readonly requestId?: string | undefined;
    readonly authority?: string | undefined;
  };
  readonly upstreamHost?: string | undefined;
  readonly upstreamCluster?: string | undefined;
  readonly downstreamLocal: string;
  readonly downstreamRemote: string;
  readonly routeName?: string | undefined;
  readonly policy?: string | undefined;
  readonly reason?: string | undefined;
}

export interface ConnectionReport {
  readonly context: ReportContext;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly flags: string;
  readonly downstreamLocal: string;
  readonly downstreamRemote: string;
  readonly upstreamHost?: string | undefined;
  readonly error?: string | undefined;
}

function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));
}

export class TrafficReporter {
  readonly #http: HttpMetrics;
  readonly #metrics: ProxyMetrics;
  readonly #log: Logger;

  constructor(http: HttpMetrics, metrics: ProxyMetrics, log: Logger) {
    this.#http = http;
    this.#metrics = metrics;
    this.#log = log;
  }

  request(report: RequestReport): void {
    const { context } = report;
    this.#http.record(
      httpLabels(context, {
        protocol: report.protocol,
        status: report.status,
        flags: report.flags,
        ...(report.grpcStatus !== undefined ? { grpcStatus: report.grpcStatus } : {}),
      }),
      {
        durationMs: report.durationMs,
        requestBytes: report.requestBytes,
        responseBytes: report.responseBytes,
      },
    );
    const warn = report.status >= 500 || report.status === 0;
    if (!this.#log.isLevelEnabled(warn ? 'warn' : 'info')) return;
    const line = present({
      message: 'request complete',
      start_time: report.startTime.toISOString(),
      method: report.method,
      path: report.path,
      protocol: `HTTP/${report.httpVersion}`,
      response_code: report.status,
      grpc_status: report.grpcStatus,
      response_flags: report.flags || '-',
      response_code_details: report.details,
      bytes_received: report.requestBytes,
      bytes_sent: report.responseBytes,
      duration: Math.round(report.durationMs),
      upstream_service_time:
        report.upstreamServiceTimeMs === undefined ? undefined : Math.round(report.upstreamServiceTimeMs),
      x_forwarded_for: report.headers.xForwardedFor,
      user_agent: report.headers.userAgent,
      request_id: report.headers.requestId,
      authority: report.headers.authority,
      upstream_host: report.upstreamHost,
      upstream_cluster: report.upstreamCluster,
      downstream_local_address: report.downstreamLocal,
      downstream_remote_address: report.downstreamRemote,
      route_name: report.routeName,
      'src.identity': context.sourcePrincipal,
      'src.workload': context.source?.name,
      'src.namespace': context.source?.namespace,
      'dst.service': context.service?.hostname,
      'dst.workload': context.destination?.name,
      'dst.namespace': context.destination?.namespace,
      authz_policy: report.policy,
      reason: report.reason,
    });
    if (warn) this.#log.warn(line);
    else this.#log.info(line);
  }

  connectionOpened(context: ReportContext): void {
    this.#metrics.connectionsOpened.inc(waypointLabels(context, 'tcp', '-'));
  }

  connection(report: ConnectionReport): void {
    const labels = waypointLabels(report.context, 'tcp', report.flags);
    this.#metrics.connectionsClosed.inc(labels);
    this.#metrics.receivedBytes.inc(labels, report.requestBytes);
    this.#metrics.sentBytes.inc(labels, report.responseBytes);
    const line = present({
      message: 'connection complete',
      'src.addr': report.downstreamRemote,
      'src.identity': report.context.sourcePrincipal,
      'src.workload': report.context.source?.name,
      'src.namespace': report.context.source?.namespace,
      'dst.addr': report.upstreamHost,
      'dst.hbone_addr': report.downstreamLocal,
      'dst.service': report.context.service?.hostname,
      'dst.workload': report.context.destination?.name,
      'dst.namespace': report.context.destination?.namespace,
      direction: 'inbound',
      bytes_sent: report.responseBytes,
      bytes_recv: report.requestBytes,
      duration: formatDuration(report.durationMs),
      error: report.error,
    });
    if (report.error) this.#log.warn(line);
    else this.#log.info(line);
  }
}
