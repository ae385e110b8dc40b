// Resolving a GatewayAddress (waypoint or network gateway) to something to dial (facts §2.3).
import type { DiscoveryStore } from '../store/store.ts';
import { serviceKey, type GatewayAddress, type Service, type Workload } from '../model.ts';
import { expectedIdentities } from './address.ts';
import { selectEndpoint } from './endpoints.ts';
import type { Dial } from './types.ts';

export interface ResolvedGateway {
  readonly workload: Workload;
  readonly service?: Service;
  readonly dial: Dial;
  readonly identities: readonly string[];
}

/** undefined = unknown gateway/waypoint. Always reached with HBONE at hbone_mtls_port (mapped). */
export function resolveGateway(
  store: DiscoveryStore,
  gateway: GatewayAddress,
  source: Workload,
  random: () => number,
): ResolvedGateway | undefined {
  const port = gateway.hboneMtlsPort;
  const dest = gateway.destination;
  const fromService = (service: Service): ResolvedGateway | undefined => {
    const selected = selectEndpoint(store, service, { source, servicePort: port, random, allowUndeclaredPort: true });
    if (!selected?.dial) return undefined;
    return {
      workload: selected.workload,
      service,
      dial: selected.dial,
      identities: expectedIdentities(selected.workload, service),
    };
  };
  if (dest.kind === 'address') {
    const workload = store.findWorkloadByAddress(dest.network, dest.address);
    if (workload) {
      return { workload, dial: { kind: 'ip', ip: dest.address, port }, identities: expectedIdentities(workload) };
    }
    const service = store.findServiceByVip(dest.network, dest.address);
    return service ? fromService(service) : undefined;
  }
  const service = store.getService(serviceKey(dest));
  if (service) return fromService(service);
  const workload =
    store.findWorkloadsByHostname(dest.hostname).find((w) => w.namespace === dest.namespace) ??
    store.findWorkloadsByHostname(dest.hostname)[0];
  if (!workload) return undefined;
  const ip = workload.workloadIps[0];
  const dial: Dial = ip !== undefined ? { kind: 'ip', ip, port } : { kind: 'dns', hostname: workload.hostname, port };
  return { workload, dial, identities: expectedIdentities(workload) };
}

/** Does `gateway` designate `local` (used by the inbound "sandwich" check)? */
export function gatewayIsWorkload(store: DiscoveryStore, gateway: GatewayAddress, local: Workload): boolean {
  const dest = gateway.destination;
  if (dest.kind === 'address') {
    if (dest.network === local.network && local.workloadIps.includes(dest.address)) return true;
    const service = store.findServiceByVip(dest.network, dest.address);
    return service !== undefined && local.services.some((s) => s.service === serviceKey(service));
  }
  if (local.services.some((s) => s.service === serviceKey(dest))) return true;
  return local.hostname !== '' && local.hostname === dest.hostname;
}
