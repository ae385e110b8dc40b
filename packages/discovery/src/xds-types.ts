// TypeScript shapes of the Istio resources in their proto3 JSON form (what decodeResource returns):
// lowerCamelCase keys, enums by name (a number when the value is unknown to this schema), bytes as
// base64, default values omitted. The Xds prefix keeps them apart from the domain model (model.ts).

type Enum<Names extends string> = Names | number;

export interface XdsNetworkAddress {
  network?: string;
  /** base64 of 4 or 16 bytes */
  address?: string;
  /** CIDR prefix length; absent or full length = a host address */
  length?: number;
}

export interface XdsNamespacedHostname {
  namespace?: string;
  hostname?: string;
}

export interface XdsGatewayAddress {
  hostname?: XdsNamespacedHostname;
  address?: XdsNetworkAddress;
  hboneMtlsPort?: number;
}

export interface XdsPort {
  servicePort?: number;
  targetPort?: number;
  appProtocol?: Enum<'UNKNOWN' | 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS'>;
}

export interface XdsPortList {
  ports?: XdsPort[];
}

export interface XdsExtension {
  name?: string;
  config?: { '@type': string; [key: string]: unknown };
}

export interface XdsLocality {
  region?: string;
  zone?: string;
  subzone?: string;
}

export interface XdsApplicationTunnel {
  protocol?: Enum<'NONE' | 'PROXY'>;
  port?: number;
}

export type XdsLoadBalancingScope =
  'UNSPECIFIED_SCOPE' | 'REGION' | 'ZONE' | 'SUBZONE' | 'NODE' | 'CLUSTER' | 'NETWORK';

export interface XdsLoadBalancing {
  routingPreference?: Enum<XdsLoadBalancingScope>[];
  mode?: Enum<'UNSPECIFIED_MODE' | 'STRICT' | 'FAILOVER' | 'PASSTHROUGH'>;
  healthPolicy?: Enum<'ONLY_HEALTHY' | 'ALLOW_ALL'>;
}

export interface XdsWeightedWaypoint {
  destination?: XdsGatewayAddress;
  weight?: number;
}

export interface XdsWorkload {
  uid?: string;
  name?: string;
  namespace?: string;
  /** base64, 4 or 16 bytes each */
  addresses?: string[];
  hostname?: string;
  network?: string;
  tunnelProtocol?: Enum<'NONE' | 'HBONE' | 'LEGACY_ISTIO_MTLS'>;
  trustDomain?: string;
  serviceAccount?: string;
  waypoint?: XdsGatewayAddress;
  networkGateway?: XdsGatewayAddress;
  node?: string;
  canonicalName?: string;
  canonicalRevision?: string;
  workloadType?: Enum<'DEPLOYMENT' | 'CRONJOB' | 'POD' | 'JOB'>;
  workloadName?: string;
  nativeTunnel?: boolean;
  applicationTunnel?: XdsApplicationTunnel;
  /** key `namespace/hostname` */
  services?: Record<string, XdsPortList>;
  authorizationPolicies?: string[];
  status?: Enum<'HEALTHY' | 'UNHEALTHY'>;
  clusterId?: string;
  locality?: XdsLocality;
  networkMode?: Enum<'STANDARD' | 'HOST_NETWORK'>;
  extensions?: XdsExtension[];
  /** google.protobuf.UInt32Value: a plain number in JSON */
  capacity?: number;
}

export interface XdsService {
  name?: string;
  namespace?: string;
  hostname?: string;
  addresses?: XdsNetworkAddress[];
  ports?: XdsPort[];
  subjectAltNames?: string[];
  waypoint?: XdsGatewayAddress;
  loadBalancing?: XdsLoadBalancing;
  ipFamilies?: Enum<'AUTOMATIC' | 'IPV4_ONLY' | 'IPV6_ONLY' | 'DUAL'>;
  extensions?: XdsExtension[];
  canonical?: boolean;
  ingressUseWaypoint?: boolean;
  weightedWaypoints?: XdsWeightedWaypoint[];
  visibility?: Enum<'PUBLIC' | 'NAMESPACE'>;
}

/** type.googleapis.com/istio.workload.Address: exactly one of workload / service. */
export interface XdsAddress {
  workload?: XdsWorkload;
  service?: XdsService;
}

export type XdsStringMatch =
  { exact: string } | { prefix: string } | { suffix: string } | { presence: Record<string, never> };

export interface XdsServiceAccountMatch {
  namespace?: string;
  serviceAccount?: string;
}

/** istio.security.Address: a CIDR (bytes base64 + prefix length). */
export interface XdsCidr {
  address?: string;
  length?: number;
}

export interface XdsMatch {
  namespaces?: XdsStringMatch[];
  notNamespaces?: XdsStringMatch[];
  serviceAccounts?: XdsServiceAccountMatch[];
  notServiceAccounts?: XdsServiceAccountMatch[];
  principals?: XdsStringMatch[];
  notPrincipals?: XdsStringMatch[];
  sourceIps?: XdsCidr[];
  notSourceIps?: XdsCidr[];
  destinationIps?: XdsCidr[];
  notDestinationIps?: XdsCidr[];
  destinationPorts?: number[];
  notDestinationPorts?: number[];
  extensions?: XdsExtension[];
}

export interface XdsClause {
  matches?: XdsMatch[];
}

export interface XdsRule {
  clauses?: XdsClause[];
}

/**
 * type.googleapis.com/istio.security.Authorization in proto3 JSON — the form policies are stored in.
 * A GLOBAL-scope ALLOW policy has no `scope`/`action` keys (defaults are omitted).
 */
export interface XdsAuthorization {
  name?: string;
  namespace?: string;
  scope?: Enum<'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR'>;
  action?: Enum<'ALLOW' | 'DENY'>;
  rules?: XdsRule[];
  dryRun?: boolean;
  extensions?: XdsExtension[];
}

/** A google.protobuf.Any as carried in xDS resources. */
export interface XdsAny {
  typeUrl: string;
  value: Uint8Array;
}
