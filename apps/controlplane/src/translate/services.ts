// Service → the proto3 JSON of istio.workload.Service, as istiod builds it (ztunnel-facts §3.1;
// istiod ambient/services.go): VIPs on the cluster network, ports with target_port 0 for named ports,
// the service waypoint, load balancing from traffic distribution.
import type { workload } from '@ambient-ts/istio-api';
import { toBase64 } from './base64.ts';
import type { ResolvedOptions, ServiceRec, WaypointRec } from './model.ts';
import { gatewayAddressJson } from './waypoints.ts';

export type ServiceJson = workload.Service;

export function portJson(servicePort: number, targetPort: number): workload.Port {
  return targetPort === 0 ? { servicePort } : { servicePort, targetPort };
}

/**
 * Istio's protocol selection for a Service port (ConvertProtocol: appProtocol wins over the name; the text
 * before the first "-" decides, case-insensitively) as the workload API's AppProtocol enum. Unknown
 * protocols are left out (UNKNOWN): the waypoint then sniffs.
 */
export function appProtocolOf(port: { name?: string; appProtocol?: string }): workload.AppProtocol | undefined {
  const known: Record<string, workload.AppProtocol> = {
    http: 'HTTP11',
    'kubernetes.io/ws': 'HTTP11',
    http2: 'HTTP2',
    'kubernetes.io/h2c': 'HTTP2',
    grpc: 'GRPC',
    'grpc-web': 'GRPC',
    tcp: 'TCP',
    mongo: 'TCP',
    redis: 'TCP',
    mysql: 'TCP',
    tls: 'TLS',
    https: 'TLS',
    'kubernetes.io/wss': 'TLS',
  };
  for (const candidate of [port.appProtocol, port.name]) {
    if (!candidate) continue;
    const text = candidate.toLowerCase();
    const key = text.startsWith('grpc-web') || text.startsWith('kubernetes.io/') ? text : text.split('-')[0]!;
    if (known[key]) return known[key];
    if (candidate === port.appProtocol) return undefined; // a declared but unknown appProtocol is not overridden by the name
  }
  return undefined;
}

export function networkAddressJson(network: string, bytes: Uint8Array): workload.NetworkAddress {
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
  if (service.vips.length > 0) out.addresses = service.vips.map((ip) => networkAddressJson(options.network, ip.bytes));
  if (service.ports.length > 0) {
    out.ports = service.ports.map((p) => {
      const appProtocol = appProtocolOf(p);
      return appProtocol ? { ...portJson(p.port, p.targetPort), appProtocol } : portJson(p.port, p.targetPort);
    });
  }
  if (waypoint !== undefined) out.waypoint = gatewayAddressJson(waypoint);
  if (service.loadBalancing !== undefined) out.loadBalancing = { ...service.loadBalancing };
  if (service.ipFamilies !== undefined) out.ipFamilies = service.ipFamilies;
  return out;
}

/** The xDS resource name of a Service: `namespace/hostname`. */
export function serviceResourceName(service: ServiceRec): string {
  return `${service.meta.namespace}/${service.hostname}`;
}
