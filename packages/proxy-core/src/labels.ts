// Istio's workload labels for the discovered model: the one conversion from a discovery Workload /
// Service to what @ambient-ts/telemetry's label builder takes (telemetry knows no discovery types).
import type { Service, Workload } from '@ambient-ts/discovery';
import {
  trafficLabels,
  type LabelService,
  type LabelWorkload,
  type ResponseFlags,
  type TrafficLabels,
} from '@ambient-ts/telemetry';

type LabelledWorkload = Pick<
  Workload,
  'name' | 'workloadName' | 'canonicalName' | 'canonicalRevision' | 'namespace' | 'clusterId' | 'locality'
>;

/** A workload's label fields (`source_workload` falls back to the pod name, as ztunnel does). */
export function workloadLabels(workload: LabelledWorkload | undefined): LabelWorkload | undefined {
  if (!workload) return undefined;
  return {
    workloadName: workload.workloadName || workload.name,
    canonicalName: workload.canonicalName,
    canonicalRevision: workload.canonicalRevision,
    namespace: workload.namespace,
    clusterId: workload.clusterId,
    locality: { region: workload.locality.region, zone: workload.locality.zone },
  };
}

export function serviceLabels(
  service: Pick<Service, 'hostname' | 'namespace' | 'name'> | undefined,
): LabelService | undefined {
  if (!service) return undefined;
  return { hostname: service.hostname, namespace: service.namespace, name: service.name };
}

export interface WorkloadTrafficInput {
  reporter: 'source' | 'destination';
  source?: LabelledWorkload | undefined;
  /** Only for mutual TLS. */
  sourcePrincipal?: string | undefined;
  destination?: LabelledWorkload | undefined;
  destinationPrincipal?: string | undefined;
  service?: Pick<Service, 'hostname' | 'namespace' | 'name'> | undefined;
  responseFlags?: ResponseFlags | undefined;
  mutualTls: boolean;
}

/** Istio's standard TCP label set for a connection between discovered workloads. */
export function workloadTrafficLabels(input: WorkloadTrafficInput): TrafficLabels {
  const source = workloadLabels(input.source);
  const destination = workloadLabels(input.destination);
  const destinationService = serviceLabels(input.service);
  return trafficLabels({
    reporter: input.reporter,
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    ...(input.sourcePrincipal ? { sourcePrincipal: input.sourcePrincipal } : {}),
    ...(input.destinationPrincipal ? { destinationPrincipal: input.destinationPrincipal } : {}),
    ...(destinationService ? { destinationService } : {}),
    ...(input.responseFlags ? { responseFlags: input.responseFlags } : {}),
    mutualTls: input.mutualTls,
  });
}
