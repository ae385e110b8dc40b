// Where a request or connection goes after routing: one healthy endpoint of the backend Service (the
// discovery package's selection: health, locality, weighted random by capacity), or the addressed pod
// itself for workload traffic. Retries avoid endpoints already tried (Istio prefers other hosts).
import { formatHostPort } from '@ambient-ts/addresses';
import {
  selectEndpoint,
  serviceKey,
  toWorkload,
  workloadIdentity,
  type DiscoveryStore,
  type Service,
  type Workload,
} from '@ambient-ts/discovery';
import type { WaypointSelf } from '../routing/dispatch.ts';

export interface UpstreamTarget {
  readonly workload: Workload;
  /** The endpoint's IP and the resolved target port. */
  readonly ip: string;
  readonly port: number;
  /** The Service that led here (labels, expected SANs, upstream_cluster). */
  readonly service?: Service;
  /** HBONE to `<ip>:15008` (mesh workloads) or plain TCP to `<ip>:<port>` (workloads outside the mesh). */
  readonly hbone: boolean;
  /** SPIFFE IDs the endpoint may present. */
  readonly identities: readonly string[];
}

export function targetAuthority(target: UpstreamTarget): string {
  return formatHostPort(target.ip, target.port);
}

function serviceSans(service: Service | undefined): string[] {
  return (service?.subjectAltNames ?? []).filter((san) => /^spiffe:\/\/[^/]*\/ns\/[^/]*\/sa\/[^/]*$/.test(san));
}

export function upstreamTarget(workload: Workload, ip: string, port: number, service?: Service): UpstreamTarget {
  return {
    workload,
    ip,
    port,
    ...(service ? { service } : {}),
    hbone: workload.protocol === 'HBONE' || workload.nativeTunnel,
    identities: [...new Set([workloadIdentity(workload), ...serviceSans(service)])],
  };
}

/** The waypoint as a load-balancing source (locality preferences); a stand-in when it is not in the store. */
export function selfWorkload(store: DiscoveryStore, self: WaypointSelf): Workload {
  return (
    store.findWorkloadByAddress(self.network, self.instanceIp) ??
    toWorkload({
      uid: `waypoint/${self.namespace}/${self.gatewayName}`,
      name: self.gatewayName,
      namespace: self.namespace,
      network: self.network,
    })
  );
}

export type EndpointPick =
  { readonly kind: 'endpoint'; readonly target: UpstreamTarget } | { readonly kind: 'none'; readonly reason: string };

/** One endpoint of `service` for `servicePort`, avoiding `exclude` (workload uids) when others exist. */
export function pickEndpoint(
  store: DiscoveryStore,
  service: Service,
  servicePort: number,
  source: Workload,
  exclude: ReadonlySet<string> = new Set(),
  random: () => number = Math.random,
): EndpointPick {
  let fallback: UpstreamTarget | undefined;
  // A few random draws: selection is weighted random, so retries land on another host when one exists.
  for (let attempt = 0; attempt < 5; attempt++) {
    const selected = selectEndpoint(store, service, { source, servicePort, random });
    if (!selected) break;
    if (selected.dial?.kind !== 'ip') {
      return {
        kind: 'none',
        reason: `endpoint ${selected.workload.name} has no IP address (DNS endpoints are not supported)`,
      };
    }
    const target = upstreamTarget(selected.workload, selected.dial.ip, selected.port, service);
    if (!exclude.has(selected.workload.uid)) return { kind: 'endpoint', target };
    fallback ??= target;
  }
  if (fallback) return { kind: 'endpoint', target: fallback };
  const endpoints = store.endpoints(serviceKey(service)).length;
  return {
    kind: 'none',
    reason:
      endpoints === 0
        ? `no healthy endpoints for ${service.namespace}/${service.hostname}`
        : `no endpoint of ${service.namespace}/${service.hostname} serves port ${servicePort}`,
  };
}
