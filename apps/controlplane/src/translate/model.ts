// Validated input records (one per accepted object) and the options a translation runs with.
import type { workload } from '@ambient-ts/istio-api';
import type { ParsedIp } from './ip-allocator.ts';
import type { ObjectRef } from './problems.ts';

export interface TranslateOptions {
  /** Workload uid prefix and `clusterId` (ztunnel's CLUSTER_ID). Default `Kubernetes`. */
  clusterId?: string;
  /** Trust domain of every identity. Default `cluster.local` (sent empty, as istiod does, when it is the default). */
  trustDomain?: string;
  /** Mesh root namespace: selector-less policies here are GLOBAL. Default `istio-system`. */
  rootNamespace?: string;
  /** Service hostnames are `<name>.<namespace>.svc.<domainSuffix>`. Default `cluster.local`. */
  domainSuffix?: string;
  /** Network of every workload and VIP unless a `topology.istio.io/network` label says otherwise. Default "". */
  network?: string;
  /**
   * A Gateway of class istio-waypoint stands for the Deployment + Service istiod would create. Their
   * addresses come from the Gateway (`spec.addresses[0].value` = Service VIP, annotations
   * `ambient-ts.io/pod-ip` and `ambient-ts.io/node` = the waypoint pod); whatever is missing is allocated here.
   */
  waypoints?: {
    /** CIDR the waypoint Service VIPs are allocated from, e.g. `127.10.255.0/24`. */
    vipRange?: string;
    /** CIDR the waypoint pod IPs are allocated from, e.g. `127.0.255.0/24`. */
    podIpRange?: string;
    /** Node the waypoint pods run on when the Gateway does not name one. */
    node?: string;
  };
}

export interface ResolvedOptions {
  readonly clusterId: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  readonly domainSuffix: string;
  readonly network: string;
  readonly waypoints: { readonly vipRange?: string; readonly podIpRange?: string; readonly node?: string };
}

export function resolveOptions(options: TranslateOptions = {}): ResolvedOptions {
  return {
    clusterId: options.clusterId ?? 'Kubernetes',
    trustDomain: options.trustDomain ?? 'cluster.local',
    rootNamespace: options.rootNamespace ?? 'istio-system',
    domainSuffix: options.domainSuffix ?? 'cluster.local',
    network: options.network ?? '',
    waypoints: { ...options.waypoints },
  };
}

/** Labels and annotations with the meaning Istio gives them. */
export const LABEL = {
  dataplaneMode: 'istio.io/dataplane-mode',
  useWaypoint: 'istio.io/use-waypoint',
  useWaypointNamespace: 'istio.io/use-waypoint-namespace',
  waypointFor: 'istio.io/waypoint-for',
  gatewayName: 'gateway.networking.k8s.io/gateway-name',
  gatewayClassName: 'gateway.networking.k8s.io/gateway-class-name',
  gatewayManaged: 'gateway.istio.io/managed',
  tunnel: 'networking.istio.io/tunnel',
  network: 'topology.istio.io/network',
  canonicalName: 'service.istio.io/canonical-name',
  canonicalRevision: 'service.istio.io/canonical-revision',
} as const;

export const ANNOTATION = {
  redirection: 'ambient.istio.io/redirection',
  sidecarStatus: 'sidecar.istio.io/status',
  dryRun: 'istio.io/dry-run',
  trafficDistribution: 'networking.istio.io/traffic-distribution',
  waypointServiceAccount: 'gateway.istio.io/service-account',
  waypointInboundBinding: 'ambient.istio.io/waypoint-inbound-binding',
  /** Ours: the address and node of the waypoint pod a Gateway stands for. */
  podIp: 'ambient-ts.io/pod-ip',
  node: 'ambient-ts.io/node',
} as const;

export const WAYPOINT_CLASS = 'istio-waypoint';
export const MESH_CONTROLLER = 'istio.io-mesh-controller';

export interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ref: ObjectRef;
}

export interface NamespaceRec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ref: ObjectRef;
}

export interface NodeRec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodRec {
  readonly meta: Meta;
  readonly ips: readonly ParsedIp[];
  readonly node?: string;
  readonly serviceAccount: string;
  /** Container port names → numbers, for named Service targetPorts. */
  readonly portNames: ReadonlyMap<string, number>;
  readonly ready: boolean;
  readonly hostNetwork: boolean;
  /** The owning Deployment/Job/… name, or the pod name (istiod's workload name). */
  readonly workloadName: string;
  /** Made by us for a waypoint Gateway (not in the input). */
  readonly synthetic: boolean;
}

export interface ServicePortRec {
  readonly index: number;
  readonly name?: string;
  readonly port: number;
  /** 0 when the target port is named. */
  readonly targetPort: number;
  readonly targetPortName?: string;
  /** `spec.ports[].appProtocol`, which wins over the name when deciding the protocol. */
  readonly appProtocol?: string;
}

export type LoadBalancingJson = workload.LoadBalancing;

export interface ServiceRec {
  readonly meta: Meta;
  readonly hostname: string;
  readonly vips: readonly ParsedIp[];
  readonly ports: readonly ServicePortRec[];
  /** undefined: a Service without selector (no endpoints from pods). */
  readonly selector?: Readonly<Record<string, string>>;
  readonly loadBalancing?: LoadBalancingJson;
  readonly ipFamilies?: 'IPV4_ONLY' | 'IPV6_ONLY' | 'DUAL';
  readonly synthetic: boolean;
}

export type TrafficType = 'service' | 'workload' | 'all' | 'none';

export interface WaypointRec {
  readonly meta: Meta;
  /** The Gateway object as written. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly trafficType: TrafficType;
  readonly serviceAccount: string;
  /** Hostname of the waypoint's Service (what istiod puts in GatewayAddress). */
  readonly hostname: string;
  /** Has at least one pod address: istiod ignores waypoints that are not ready. */
  readonly ready: boolean;
  readonly allowedRoutes: {
    readonly from: 'All' | 'Same' | 'Selector';
    readonly selector?: Readonly<Record<string, string>>;
  };
  readonly binding?: { readonly protocol: 'NONE' | 'PROXY'; readonly port: number };
}

export interface SelectorPolicyRec {
  /** `namespace/name`, the key workloads list in `authorizationPolicies`. */
  readonly key: string;
  readonly namespace: string;
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly ref: ObjectRef;
}
