// Builders for routing/store tests (not a test file itself).
import type { GatewayAddress, Service, Workload } from '../src/model.ts';

export function workload(name: string, ip: string | undefined, extra: Partial<Workload> = {}): Workload {
  return {
    uid: `Kubernetes//Pod/default/${name}`,
    name,
    namespace: 'default',
    workloadIps: ip ? [ip] : [],
    hostname: '',
    network: '',
    protocol: 'HBONE',
    trustDomain: 'cluster.local',
    serviceAccount: name,
    node: 'node1',
    canonicalName: name,
    canonicalRevision: 'v1',
    workloadType: 'deployment',
    workloadName: name,
    nativeTunnel: false,
    services: [],
    authorizationPolicies: [],
    status: 'Healthy',
    clusterId: 'Kubernetes',
    locality: { region: '', zone: '', subzone: '' },
    networkMode: 'Standard',
    capacity: 1,
    ...extra,
  };
}

export function service(name: string, vip: string | undefined, extra: Partial<Service> = {}): Service {
  return {
    name,
    namespace: 'default',
    hostname: `${name}.default.svc.cluster.local`,
    vips: vip ? [{ network: '', address: vip }] : [],
    cidrVips: [],
    ports: [{ servicePort: 80, targetPort: 8080 }],
    subjectAltNames: [],
    weightedWaypoints: [],
    canonical: false,
    visibility: 'Public',
    ...extra,
  };
}

export function endpointOf(key: string, ports: [number, number][] = [[80, 8080]]) {
  return { service: key, ports: new Map(ports) };
}

export const viaIp = (ip: string, port = 15008, network = ''): GatewayAddress => ({
  destination: { kind: 'address', network, address: ip },
  hboneMtlsPort: port,
});

export const viaHost = (hostname: string, port = 15008, namespace = 'default'): GatewayAddress => ({
  destination: { kind: 'hostname', namespace, hostname },
  hboneMtlsPort: port,
});

/** Deterministic [0,1) source (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
