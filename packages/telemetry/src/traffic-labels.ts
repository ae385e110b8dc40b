// Istio's standard TCP traffic labels, in the order ztunnel emits them (ztunnel-facts §7.1).

export const trafficLabelNames = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_service',
  'destination_service_namespace',
  'destination_service_name',
  'destination_workload',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
  'source_region',
  'source_zone',
  'destination_region',
  'destination_zone',
] as const;

export type TrafficLabelName = (typeof trafficLabelNames)[number];
export type TrafficLabels = Record<TrafficLabelName, string>;

/** `-` means no flag; the others are ztunnel's failure flags. */
export type ResponseFlags =
  | '-'
  | 'DENY'
  | 'CONNECT'
  | 'TLS_FAILURE'
  | 'H2_HANDSHAKE_FAILURE'
  | 'NETWORK_POLICY'
  | 'IDENTITY_ERROR'
  | 'CERT_REVOKED';

/** The workload fields the labels are drawn from (a subset of a discovered Workload). */
export interface LabelWorkload {
  workloadName?: string;
  canonicalName?: string;
  canonicalRevision?: string;
  namespace?: string;
  clusterId?: string;
  locality?: { region?: string; zone?: string };
}

export interface LabelService {
  hostname: string;
  namespace: string;
  name: string;
}

export interface TrafficLabelInput {
  reporter: 'source' | 'destination';
  source?: LabelWorkload;
  /** The mTLS peer (inbound) or our own (outbound) identity; only set for mutual TLS. */
  sourcePrincipal?: string;
  destination?: LabelWorkload;
  destinationPrincipal?: string;
  destinationService?: LabelService;
  responseFlags?: ResponseFlags;
  mutualTls: boolean;
}

const unknown = (value: string | undefined): string => (value === undefined || value === '' ? 'unknown' : value);

/** Build the full label set; missing values render as `unknown`, as Istio does. */
export function trafficLabels(input: TrafficLabelInput): TrafficLabels {
  const { source, destination, destinationService: service } = input;
  return {
    reporter: input.reporter,
    source_workload: unknown(source?.workloadName),
    source_canonical_service: unknown(source?.canonicalName),
    source_canonical_revision: unknown(source?.canonicalRevision),
    source_workload_namespace: unknown(source?.namespace),
    source_principal: unknown(input.sourcePrincipal),
    source_app: unknown(source?.canonicalName),
    source_version: unknown(source?.canonicalRevision),
    source_cluster: unknown(source?.clusterId),
    destination_service: unknown(service?.hostname),
    destination_service_namespace: unknown(service?.namespace),
    destination_service_name: unknown(service?.name),
    destination_workload: unknown(destination?.workloadName),
    destination_canonical_service: unknown(destination?.canonicalName),
    destination_canonical_revision: unknown(destination?.canonicalRevision),
    destination_workload_namespace: unknown(destination?.namespace),
    destination_principal: unknown(input.destinationPrincipal),
    destination_app: unknown(destination?.canonicalName),
    destination_version: unknown(destination?.canonicalRevision),
    destination_cluster: unknown(destination?.clusterId),
    request_protocol: 'tcp',
    response_flags: input.responseFlags ?? '-',
    connection_security_policy: input.mutualTls ? 'mutual_tls' : 'unknown',
    source_region: unknown(source?.locality?.region),
    source_zone: unknown(source?.locality?.zone),
    destination_region: unknown(destination?.locality?.region),
    destination_zone: unknown(destination?.locality?.zone),
  };
}
