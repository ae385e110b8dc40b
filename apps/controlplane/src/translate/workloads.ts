// Pod → the proto3 JSON of istio.workload.Workload, as istiod builds it (ztunnel-facts §3.1; istiod
// ambient/workloads.go): HBONE for ambient pods, per-service port maps with named ports resolved through
// the pod's container ports, the workload waypoint, selector policies, telemetry names.
import type { workload } from '@ambient-ts/istio-api';
import { toBase64 } from './base64.ts';
import {
  ANNOTATION,
  LABEL,
  type NamespaceRec,
  type NodeRec,
  type PodRec,
  type ResolvedOptions,
  type SelectorPolicyRec,
  type ServiceRec,
  type WaypointRec,
} from './model.ts';
import { portJson, serviceResourceName } from './services.ts';
import { gatewayAddressJson, resolveWaypoint, type WaypointContext } from './waypoints.ts';

export type WorkloadJson = workload.Workload;

export interface WorkloadContext extends WaypointContext {
  readonly options: ResolvedOptions;
  readonly nodes: ReadonlyMap<string, NodeRec>;
  /** The Services whose (non-empty) selector picks each pod, in input order. */
  readonly servicesOfPod: ReadonlyMap<PodRec, readonly ServiceRec[]>;
  /** The selector policies (own namespace or root namespace) picking each pod. */
  readonly policiesOfPod: ReadonlyMap<PodRec, readonly SelectorPolicyRec[]>;
  /** Called when a Service's named targetPort is not a container port name of a selected pod. */
  readonly onNamedPortMissing: (service: ServiceRec, portIndex: number, pod: PodRec) => void;
}

/** `<cluster>//Pod/<namespace>/<name>`, the Workload's xDS name. */
export function podUid(clusterId: string, pod: PodRec): string {
  return `${clusterId}//Pod/${pod.meta.namespace}/${pod.meta.name}`;
}

/** Captured by ztunnel: the CNI's redirection annotation, else pod label, else namespace label. */
export function isAmbient(pod: PodRec, namespace: NamespaceRec | undefined): boolean {
  if (pod.meta.annotations[ANNOTATION.redirection] === 'enabled') return true;
  if (pod.meta.annotations[ANNOTATION.sidecarStatus] !== undefined || pod.hostNetwork) return false;
  const own = pod.meta.labels[LABEL.dataplaneMode];
  if (own === 'none') return false;
  if (own === 'ambient') return true;
  return namespace?.labels[LABEL.dataplaneMode] === 'ambient';
}

/** istiod's canonical service: explicit labels, then the app labels, then the workload name / `latest`. */
export function canonicalService(labels: Readonly<Record<string, string>>, workloadName: string): [string, string] {
  const name = labels[LABEL.canonicalName] ?? labels['app.kubernetes.io/name'] ?? labels['app'] ?? workloadName;
  const revision =
    labels[LABEL.canonicalRevision] ?? labels['app.kubernetes.io/version'] ?? labels['version'] ?? 'latest';
  return [name, revision];
}

/** The Services selecting the pod, each with this pod's port map. */
function servicesOf(pod: PodRec, ctx: WorkloadContext): Record<string, workload.PortList> | undefined {
  const out: Record<string, workload.PortList> = {};
  for (const service of ctx.servicesOfPod.get(pod) ?? []) {
    const ports: workload.Port[] = [];
    for (const port of service.ports) {
      if (port.targetPortName === undefined) {
        ports.push(portJson(port.port, port.targetPort));
        continue;
      }
      const resolved = pod.portNames.get(port.targetPortName);
      // istiod leaves the port out for this endpoint when the pod has no such named port
      if (resolved === undefined) ctx.onNamedPortMissing(service, port.index, pod);
      else ports.push(portJson(port.port, resolved));
    }
    out[serviceResourceName(service)] = ports.length === 0 ? {} : { ports };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Keys of selector policies (in the pod's namespace or the root namespace) selecting the pod, sorted. */
export function selectorPolicyKeys(pod: PodRec, ctx: WorkloadContext): string[] {
  return (ctx.policiesOfPod.get(pod) ?? []).map((p) => p.key).sort();
}

function waypointInstanceOf(pod: PodRec, ctx: WorkloadContext): WaypointRec | undefined {
  const name = pod.meta.labels[LABEL.gatewayName];
  return name === undefined ? undefined : ctx.waypoints.get(`${pod.meta.namespace}/${name}`);
}

function localityOf(pod: PodRec, ctx: WorkloadContext): workload.Locality | undefined {
  const labels = pod.node === undefined ? undefined : ctx.nodes.get(pod.node)?.labels;
  if (labels === undefined) return undefined;
  const locality: workload.Locality = {};
  const region = labels['topology.kubernetes.io/region'];
  const zone = labels['topology.kubernetes.io/zone'];
  const subzone = labels['topology.istio.io/subzone'];
  if (region !== undefined) locality.region = region;
  if (zone !== undefined) locality.zone = zone;
  if (subzone !== undefined) locality.subzone = subzone;
  return Object.keys(locality).length === 0 ? undefined : locality;
}

export function networkOf(
  labels: Readonly<Record<string, string>>,
  namespace: NamespaceRec | undefined,
  fallback: string,
): string {
  return labels[LABEL.network] ?? namespace?.labels[LABEL.network] ?? fallback;
}

/** The Workload of one pod, fields in proto order, defaults omitted. */
export function buildWorkload(pod: PodRec, ctx: WorkloadContext): WorkloadJson {
  const { options } = ctx;
  const namespace = ctx.namespaces.get(pod.meta.namespace);
  const network = networkOf(pod.meta.labels, namespace, options.network);
  const instanceOf = waypointInstanceOf(pod, ctx);
  const waypoint = instanceOf === undefined ? resolveWaypoint('workload', pod.meta, ctx) : undefined;
  const [canonicalName, canonicalRevision] = canonicalService(pod.meta.labels, pod.workloadName);
  const nativeTunnel = (pod.meta.labels[LABEL.tunnel] ?? '').split(',').includes('http');
  const hbone = nativeTunnel || isAmbient(pod, namespace);

  const w: WorkloadJson = {
    uid: podUid(options.clusterId, pod),
    name: pod.meta.name,
    namespace: pod.meta.namespace,
    addresses: pod.ips.map((ip) => toBase64(ip.bytes)),
  };
  if (network !== '') w.network = network;
  if (hbone) w.tunnelProtocol = 'HBONE';
  // istiod leaves the default trust domain empty; ztunnel reads empty as cluster.local
  if (options.trustDomain !== 'cluster.local') w.trustDomain = options.trustDomain;
  w.serviceAccount = pod.serviceAccount;
  if (waypoint !== undefined) w.waypoint = gatewayAddressJson(waypoint);
  if (pod.node !== undefined) w.node = pod.node;
  w.canonicalName = canonicalName;
  w.canonicalRevision = canonicalRevision;
  w.workloadType = 'POD';
  w.workloadName = pod.workloadName;
  if (nativeTunnel) w.nativeTunnel = true;
  if (instanceOf?.binding !== undefined) {
    const tunnel: workload.ApplicationTunnel = {};
    if (instanceOf.binding.protocol !== 'NONE') tunnel.protocol = instanceOf.binding.protocol;
    if (instanceOf.binding.port !== 0) tunnel.port = instanceOf.binding.port;
    w.applicationTunnel = tunnel;
  }
  const services = servicesOf(pod, ctx);
  if (services !== undefined) w.services = services;
  const policies = selectorPolicyKeys(pod, ctx);
  if (policies.length > 0) w.authorizationPolicies = policies;
  if (!pod.ready) w.status = 'UNHEALTHY';
  w.clusterId = options.clusterId;
  const locality = localityOf(pod, ctx);
  if (locality !== undefined) w.locality = locality;
  if (pod.hostNetwork) w.networkMode = 'HOST_NETWORK';
  return w;
}
