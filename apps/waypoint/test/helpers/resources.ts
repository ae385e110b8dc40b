// xDS resources for the direct tests, in the proto3 JSON form istiod (or the local control plane) sends.
import { ipToBytes } from '@ambient-ts/addresses';
import type { workload as wire } from '@ambient-ts/istio-api';

export const TRUST_DOMAIN = 'cluster.local';
export const WAYPOINT_HOST = 'waypoint.default.svc.cluster.local';

/** IPv4 or IPv6 text → the base64 bytes of the proto3 JSON form. */
const b64 = (ip: string): string => Buffer.from(ipToBytes(ip) ?? []).toString('base64');

export const identityOf = (sa: string, namespace = 'default'): string =>
  `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${sa}`;

export interface WorkloadSpec {
  name: string;
  ip: string;
  sa?: string;
  /** service name → [servicePort, targetPort][] */
  services?: Record<string, [number, number][]>;
  version?: string;
  protocol?: 'HBONE' | 'NONE';
  healthy?: boolean;
  /** Bound to the waypoint as a workload waypoint. */
  waypoint?: boolean;
}

export function workload(spec: WorkloadSpec): wire.Address {
  return {
    workload: {
      uid: `Kubernetes//Pod/default/${spec.name}`,
      name: spec.name,
      namespace: 'default',
      addresses: [b64(spec.ip)],
      tunnelProtocol: spec.protocol ?? 'HBONE',
      trustDomain: TRUST_DOMAIN,
      serviceAccount: spec.sa ?? spec.name,
      workloadName: spec.name,
      canonicalName: spec.name.replace(/-v\d+$/, ''),
      canonicalRevision: spec.version ?? 'latest',
      clusterId: 'Kubernetes',
      ...(spec.healthy === false ? { status: 'UNHEALTHY' } : {}),
      ...(spec.waypoint
        ? { waypoint: { hostname: { namespace: 'default', hostname: WAYPOINT_HOST }, hboneMtlsPort: 15008 } }
        : {}),
      services: Object.fromEntries(
        Object.entries(spec.services ?? {}).map(([service, ports]) => [
          `default/${service}.default.svc.cluster.local`,
          { ports: ports.map(([servicePort, targetPort]) => ({ servicePort, targetPort })) },
        ]),
      ),
    },
  } as wire.Address;
}

export interface ServiceSpec {
  name: string;
  vip: string;
  ports: { port: number; targetPort: number; appProtocol?: 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' }[];
  /** Bound to the test waypoint (default true). */
  waypoint?: boolean;
}

export function service(spec: ServiceSpec): wire.Address {
  return {
    service: {
      name: spec.name,
      namespace: 'default',
      hostname: `${spec.name}.default.svc.cluster.local`,
      addresses: [{ network: '', address: b64(spec.vip) }],
      ports: spec.ports.map((p) => ({
        servicePort: p.port,
        targetPort: p.targetPort,
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
      ...(spec.waypoint === false
        ? {}
        : { waypoint: { hostname: { namespace: 'default', hostname: WAYPOINT_HOST }, hboneMtlsPort: 15008 } }),
    },
  } as wire.Address;
}

export function addressName(address: wire.Address): string {
  return address.workload ? address.workload.uid! : `default/${address.service!.hostname}`;
}

/** A Kubernetes object as the control plane forwards it, with its `Kind/ns/name` resource name. */
export function l7(
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): { name: string; json: Record<string, unknown> } {
  return { name: `${kind}/default/${name}`, json: { kind, metadata: { name, namespace: 'default', ...extra }, spec } };
}

export const serviceParent = (name: string, port?: number) => ({
  group: '',
  kind: 'Service',
  name,
  ...(port ? { port } : {}),
});
export const gatewayTarget = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };
export const serviceTarget = (name: string) => ({ group: '', kind: 'Service', name });
