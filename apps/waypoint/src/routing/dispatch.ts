// Which Service or workload a tunneled stream is for (l7-facts §1.5): the CONNECT authority is the
// original destination. A Service VIP bound to this waypoint (service traffic) wins; else a workload IP
// bound to it (workload traffic). Anything else is refused: 400 for an authority that is not `ip:port`,
// 503 for a destination this waypoint does not serve (Istio resets such streams; 503 tells the client
// ztunnel why, the way ztunnel answers unknown destinations).
import { formatAuthority, formatHostPort, type Authority } from '@ambient-ts/addresses';
import type { DiscoveryStore, GatewayAddress, Service, Workload } from '@ambient-ts/discovery';

export interface WaypointSelf {
  readonly gatewayName: string;
  readonly namespace: string;
  /** `<gateway>.<namespace>.svc.<cluster domain>`: how istiod names the waypoint in GatewayAddress. */
  readonly hostname: string;
  readonly instanceIp: string;
  readonly network: string;
}

export type Dispatch =
  | { readonly kind: 'service'; readonly service: Service; readonly servicePort: number; readonly vip: string }
  | { readonly kind: 'workload'; readonly workload: Workload; readonly port: number; readonly ip: string }
  | { readonly kind: 'reject'; readonly status: 400 | 503; readonly message: string };

/** Does this GatewayAddress (a service's or workload's waypoint) designate this waypoint? */
export function designatesSelf(
  store: DiscoveryStore,
  gateway: GatewayAddress | undefined,
  self: WaypointSelf,
): boolean {
  if (!gateway) return false;
  const destination = gateway.destination;
  if (destination.kind === 'hostname') {
    return destination.hostname === self.hostname && destination.namespace === self.namespace;
  }
  if (destination.address === self.instanceIp) return true;
  const service = store.findServiceByVip(destination.network, destination.address);
  if (service) return service.name === self.gatewayName && service.namespace === self.namespace;
  const workload = store.findWorkloadByAddress(destination.network, destination.address);
  return workload?.workloadIps.includes(self.instanceIp) ?? false;
}

function serviceBound(store: DiscoveryStore, service: Service, self: WaypointSelf): boolean {
  if (designatesSelf(store, service.waypoint, self)) return true;
  return service.weightedWaypoints.some((weighted) => designatesSelf(store, weighted.destination, self));
}

export function dispatch(store: DiscoveryStore, authority: Authority, self: WaypointSelf): Dispatch {
  if (authority.kind !== 'ip') {
    return {
      kind: 'reject',
      status: 400,
      message: `CONNECT authority ${formatAuthority(authority)} is a host name; a waypoint needs the original destination ip:port`,
    };
  }
  const { address, port } = authority;
  const service = store.findServiceByVip(self.network, address);
  if (service && serviceBound(store, service, self)) {
    if (!service.ports.some((p) => p.servicePort === port)) {
      return {
        kind: 'reject',
        status: 503,
        message: `service ${service.namespace}/${service.hostname} has no port ${port}`,
      };
    }
    return { kind: 'service', service, servicePort: port, vip: address };
  }
  const workload = store.findWorkloadByAddress(self.network, address);
  if (workload && designatesSelf(store, workload.waypoint, self)) {
    return { kind: 'workload', workload, port, ip: address };
  }
  const what = service
    ? `service ${service.namespace}/${service.hostname} is not bound to this waypoint`
    : workload
      ? `workload ${workload.namespace}/${workload.name} is not bound to this waypoint`
      : `no service or workload at ${address}`;
  return { kind: 'reject', status: 503, message: `unknown destination ${formatHostPort(address, port)}: ${what}` };
}
