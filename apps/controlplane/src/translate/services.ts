// Service → the proto3 JSON of istio.workload.Service, as istiod builds it (ztunnel-facts §3.1;
// istiod ambient/services.go): VIPs on the cluster network, ports with target_port 0 for named ports,
// the service waypoint, load balancing from traffic distribution.
import { toBase64 } from './ip.ts';
import type { ResolvedOptions, ServiceRec, WaypointRec } from './model.ts';
import { gatewayAddressJson } from './waypoints.ts';

export type ServiceJson = Record<string, unknown>;

export function portJson(servicePort: number, targetPort: number): Record<string, number> {
  return targetPort === 0 ? { servicePort } : { servicePort, targetPort };
}

export function networkAddressJson(network: string, bytes: Uint8Array): Record<string, string> {
  return network === '' ? { address: toBase64(bytes) } : { network, address: toBase64(bytes) };
}

export function buildService(
  service: ServiceRec,
  waypoint: WaypointRec | undefined,
  options: ResolvedOptions,
): ServiceJson {
  const out: ServiceJson = {
    name: service.meta.name,
    namespace: service.meta.namespace,
    hostname: service.hostname,
  };
  if (service.vips.length > 0)
    out['addresses'] = service.vips.map((ip) => networkAddressJson(options.network, ip.bytes));
  if (service.ports.length > 0) out['ports'] = service.ports.map((p) => portJson(p.port, p.targetPort));
  if (waypoint !== undefined) out['waypoint'] = gatewayAddressJson(waypoint);
  if (service.loadBalancing !== undefined) out['loadBalancing'] = { ...service.loadBalancing };
  if (service.ipFamilies !== undefined) out['ipFamilies'] = service.ipFamilies;
  return out;
}

/** The xDS resource name of a Service: `namespace/hostname`. */
export function serviceResourceName(service: ServiceRec): string {
  return `${service.meta.namespace}/${service.hostname}`;
}
