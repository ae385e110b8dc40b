// The domain model ztunnel routes with (its serde "internal" model, camelCase like /config_dump).
// Built from xDS (with defaults) or from static YAML (without); see convert.ts and static/.
import { formatIstioIdentity } from '@ambient-ts/spiffe';

/** An IP on a network; `network` "" is the default network. */
export interface NetworkAddress {
  readonly network: string;
  readonly address: string;
}

/** A CIDR VIP (NetworkAddress with a prefix shorter than the full length). */
export interface NetworkCidr {
  readonly network: string;
  readonly address: string;
  readonly prefixLength: number;
}

export interface NamespacedHostname {
  readonly namespace: string;
  readonly hostname: string;
}

export type GatewayDestination =
  ({ readonly kind: 'address' } & NetworkAddress) | ({ readonly kind: 'hostname' } & NamespacedHostname);

export interface GatewayAddress {
  readonly destination: GatewayDestination;
  readonly hboneMtlsPort: number;
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subzone: string;
}

export interface ApplicationTunnel {
  readonly protocol: 'NONE' | 'PROXY';
  /** undefined = keep the resolved port */
  readonly port?: number;
}

/** service port -> target port for one workload behind one service. */
export interface WorkloadServicePorts {
  /** `namespace/hostname` */
  readonly service: string;
  readonly ports: ReadonlyMap<number, number>;
}

export type TunnelProtocol = 'TCP' | 'HBONE';
export type HealthStatus = 'Healthy' | 'Unhealthy';
export type NetworkMode = 'Standard' | 'HostNetwork';

export interface Workload {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly workloadIps: readonly string[];
  readonly hostname: string;
  readonly network: string;
  readonly protocol: TunnelProtocol;
  readonly trustDomain: string;
  readonly serviceAccount: string;
  readonly waypoint?: GatewayAddress;
  readonly networkGateway?: GatewayAddress;
  readonly node: string;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  /** lower-cased WorkloadType name: deployment, cronjob, pod, job */
  readonly workloadType: string;
  readonly workloadName: string;
  readonly nativeTunnel: boolean;
  readonly applicationTunnel?: ApplicationTunnel;
  readonly services: readonly WorkloadServicePorts[];
  readonly authorizationPolicies: readonly string[];
  readonly status: HealthStatus;
  readonly clusterId: string;
  readonly locality: Locality;
  readonly networkMode: NetworkMode;
  readonly capacity: number;
}

export type LoadBalancerScope = 'Region' | 'Zone' | 'Subzone' | 'Node' | 'Cluster' | 'Network';
export type LoadBalancerMode = 'Standard' | 'Strict' | 'Failover' | 'Passthrough';
export type LoadBalancerHealthPolicy = 'OnlyHealthy' | 'AllowAll';

export interface LoadBalancer {
  readonly routingPreferences: readonly LoadBalancerScope[];
  readonly mode: LoadBalancerMode;
  readonly healthPolicy: LoadBalancerHealthPolicy;
}

export interface ServicePort {
  readonly servicePort: number;
  /** 0 = named port: resolve per endpoint */
  readonly targetPort: number;
}

export interface WeightedWaypoint {
  readonly destination: GatewayAddress;
  readonly weight: number;
}

/** undefined in Service.ipFamilies = AUTOMATIC */
export type IpFamilies = 'Dual' | 'IPv4' | 'IPv6';

export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly vips: readonly NetworkAddress[];
  readonly cidrVips: readonly NetworkCidr[];
  readonly ports: readonly ServicePort[];
  readonly subjectAltNames: readonly string[];
  readonly waypoint?: GatewayAddress;
  readonly weightedWaypoints: readonly WeightedWaypoint[];
  readonly loadBalancer?: LoadBalancer;
  readonly ipFamilies?: IpFamilies;
  readonly canonical: boolean;
  readonly visibility: 'Public' | 'Namespace';
}

/** A workload as an endpoint of one service (derived by the store from Workload.services). */
export interface Endpoint {
  readonly workloadUid: string;
  readonly ports: ReadonlyMap<number, number>;
  readonly status: HealthStatus;
}

export function serviceKey(service: NamespacedHostname): string {
  return `${service.namespace}/${service.hostname}`;
}

/** spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount> (empty parts kept, as ztunnel does). */
export function workloadIdentity(workload: Pick<Workload, 'trustDomain' | 'namespace' | 'serviceAccount'>): string {
  return formatIstioIdentity(workload);
}
