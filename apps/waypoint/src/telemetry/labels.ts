// The standard label set for what the waypoint reports (reporter="waypoint"): source from the tunnel
// peer (workload by HBONE peer address, principal from its certificate), destination from the selected
// upstream endpoint and the Service the request was routed to (l7-facts §5.1).
import { workloadIdentity, type Service, type Workload } from '@ambient-ts/discovery';
import { workloadTrafficLabels } from '@ambient-ts/proxy-core';
import type { TrafficLabels } from '@ambient-ts/telemetry';
import type { HttpLabels } from './http-metrics.ts';

export interface ReportContext {
  readonly source?: Workload | undefined;
  readonly sourcePrincipal: string;
  readonly destination?: Workload | undefined;
  readonly service?: Service | undefined;
}

export function waypointLabels(
  context: ReportContext,
  protocol: 'http' | 'grpc' | 'tcp',
  flags: string,
): TrafficLabels {
  const labels = workloadTrafficLabels({
    reporter: 'destination',
    source: context.source,
    sourcePrincipal: context.sourcePrincipal,
    destination: context.destination,
    destinationPrincipal: context.destination ? workloadIdentity(context.destination) : undefined,
    service: context.service,
    mutualTls: true,
  });
  return { ...labels, reporter: 'waypoint', request_protocol: protocol, response_flags: flags || '-' };
}

export function httpLabels(
  context: ReportContext,
  result: { protocol: 'http' | 'grpc'; status: number; flags: string; grpcStatus?: string },
): HttpLabels {
  return {
    ...waypointLabels(context, result.protocol, result.flags),
    response_code: String(result.status),
    grpc_response_status: result.grpcStatus ?? '',
  };
}
