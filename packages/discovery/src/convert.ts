// xDS proto3 JSON -> domain model, in one place. Call only on resources validate.ts accepted.
// With `xdsDefaults` (the xDS path) empty trustDomain/serviceAccount/clusterId become
// cluster.local/default/Kubernetes, as ztunnel does for xDS but not for static YAML (facts §12.14).
import { ipFromBytes } from '@ambient-ts/addresses';
import { base64ToBytes, type workload } from '@ambient-ts/istio-api';
import type {
  GatewayAddress,
  LoadBalancer,
  LoadBalancerScope,
  NetworkAddress,
  NetworkCidr,
  Service,
  Workload,
  WorkloadServicePorts,
} from './model.ts';
import { enumName } from './validate/enums.ts';

export interface ConvertOptions {
  /** Apply ztunnel's xDS defaults for empty trustDomain/serviceAccount/clusterId (default true). */
  readonly xdsDefaults?: boolean;
}

function ip(base64: string | undefined): string {
  return ipFromBytes(base64ToBytes(base64 ?? '')) ?? '';
}

function networkAddress(address: workload.NetworkAddress): NetworkAddress {
  return { network: address.network ?? '', address: ip(address.address) };
}

export function toGatewayAddress(gateway: workload.GatewayAddress): GatewayAddress {
  const port = gateway.hboneMtlsPort ?? 0;
  if (gateway.address)
    return { destination: { kind: 'address', ...networkAddress(gateway.address) }, hboneMtlsPort: port };
  const host = gateway.hostname ?? {};
  return {
    destination: { kind: 'hostname', namespace: host.namespace ?? '', hostname: host.hostname ?? '' },
    hboneMtlsPort: port,
  };
}

function portMap(list: workload.PortList): Map<number, number> {
  const map = new Map<number, number>();
  for (const port of list.ports ?? []) map.set(port.servicePort ?? 0, port.targetPort ?? 0);
  return map;
}

export function toWorkload(xds: workload.Workload, options: ConvertOptions = {}): Workload {
  const defaults = options.xdsDefaults ?? true;
  const services: WorkloadServicePorts[] = Object.entries(xds.services ?? {}).map(([service, list]) => ({
    service,
    ports: portMap(list),
  }));
  const locality = xds.locality ?? {};
  const tunnel = xds.applicationTunnel;
  return {
    uid: xds.uid ?? '',
    name: xds.name ?? '',
    namespace: xds.namespace ?? '',
    workloadIps: (xds.addresses ?? []).map(ip),
    hostname: xds.hostname ?? '',
    network: xds.network ?? '',
    protocol: enumName('tunnelProtocol', xds.tunnelProtocol) === 'HBONE' ? 'HBONE' : 'TCP',
    trustDomain: xds.trustDomain || (defaults ? 'cluster.local' : ''),
    serviceAccount: xds.serviceAccount || (defaults ? 'default' : ''),
    ...(xds.waypoint ? { waypoint: toGatewayAddress(xds.waypoint) } : {}),
    ...(xds.networkGateway ? { networkGateway: toGatewayAddress(xds.networkGateway) } : {}),
    node: xds.node ?? '',
    canonicalName: xds.canonicalName ?? '',
    canonicalRevision: xds.canonicalRevision ?? '',
    // unknown numbers fall back to the default, like prost's accessor
    workloadType: (enumName('workloadType', xds.workloadType) ?? 'DEPLOYMENT').toLowerCase(),
    workloadName: xds.workloadName ?? '',
    nativeTunnel: xds.nativeTunnel ?? false,
    ...(tunnel
      ? {
          applicationTunnel: {
            protocol: enumName('appTunnelProtocol', tunnel.protocol) === 'PROXY' ? 'PROXY' : 'NONE',
            ...(tunnel.port ? { port: tunnel.port } : {}),
          },
        }
      : {}),
    services,
    authorizationPolicies: xds.authorizationPolicies ?? [],
    status: enumName('workloadStatus', xds.status) === 'UNHEALTHY' ? 'Unhealthy' : 'Healthy',
    clusterId: xds.clusterId || (defaults ? 'Kubernetes' : ''),
    locality: { region: locality.region ?? '', zone: locality.zone ?? '', subzone: locality.subzone ?? '' },
    networkMode: enumName('networkMode', xds.networkMode) === 'HOST_NETWORK' ? 'HostNetwork' : 'Standard',
    capacity: xds.capacity ?? 1,
  };
}

const SCOPES: Record<string, LoadBalancerScope> = {
  REGION: 'Region',
  ZONE: 'Zone',
  SUBZONE: 'Subzone',
  NODE: 'Node',
  CLUSTER: 'Cluster',
  NETWORK: 'Network',
};

function toLoadBalancer(xds: NonNullable<workload.Service['loadBalancing']>): LoadBalancer {
  const mode = enumName('lbMode', xds.mode);
  return {
    routingPreferences: (xds.routingPreference ?? []).map((scope) => SCOPES[enumName('lbScope', scope) ?? '']!),
    mode:
      mode === 'STRICT'
        ? 'Strict'
        : mode === 'FAILOVER'
          ? 'Failover'
          : mode === 'PASSTHROUGH'
            ? 'Passthrough'
            : 'Standard',
    healthPolicy: enumName('lbHealthPolicy', xds.healthPolicy) === 'ALLOW_ALL' ? 'AllowAll' : 'OnlyHealthy',
  };
}

export function toService(xds: workload.Service): Service {
  const vips: NetworkAddress[] = [];
  const cidrVips: NetworkCidr[] = [];
  for (const address of xds.addresses ?? []) {
    const bytes = base64ToBytes(address.address ?? '');
    const full = bytes.length * 8;
    // absent or full length = host address; shorter = CIDR VIP matched by longest prefix
    if (address.length === undefined || address.length === full) vips.push(networkAddress(address));
    else cidrVips.push({ ...networkAddress(address), prefixLength: address.length });
  }
  const families = enumName('ipFamilies', xds.ipFamilies);
  return {
    name: xds.name ?? '',
    namespace: xds.namespace ?? '',
    hostname: xds.hostname ?? '',
    vips,
    cidrVips,
    ports: (xds.ports ?? []).map((port) => ({ servicePort: port.servicePort ?? 0, targetPort: port.targetPort ?? 0 })),
    subjectAltNames: xds.subjectAltNames ?? [],
    ...(xds.waypoint ? { waypoint: toGatewayAddress(xds.waypoint) } : {}),
    weightedWaypoints: (xds.weightedWaypoints ?? [])
      .filter((w) => w.destination)
      .map((w) => ({ destination: toGatewayAddress(w.destination!), weight: w.weight ?? 0 })),
    ...(xds.loadBalancing ? { loadBalancer: toLoadBalancer(xds.loadBalancing) } : {}),
    ...(families === 'IPV4_ONLY'
      ? { ipFamilies: 'IPv4' as const }
      : families === 'IPV6_ONLY'
        ? { ipFamilies: 'IPv6' as const }
        : families === 'DUAL'
          ? { ipFamilies: 'Dual' as const }
          : {}),
    canonical: xds.canonical ?? false,
    visibility: enumName('visibility', xds.visibility) === 'NAMESPACE' ? 'Namespace' : 'Public',
  };
}
