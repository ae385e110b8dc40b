// Node authorization input for the CA: which identities run on which node. istiod grants a node's ztunnel
// an identity only if a pod with that namespace and service account is scheduled there (ztunnel-facts §4.3).
import { formatIstioIdentity } from '@ambient-ts/spiffe';
import { LABEL, type NodeRec, type PodRec, type WaypointRec } from './model.ts';

export interface Placement {
  /** Every node named by a Node object or a pod's nodeName, sorted. */
  readonly nodes: readonly string[];
  /** node → `spiffe://<td>/ns/<ns>/sa/<sa>` of the pods on it. */
  readonly identitiesByNode: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every waypoint Gateway with the identity it serves as and the nodes its pods run on, sorted. */
  readonly waypoints: readonly WaypointPlacement[];
}

/** Where a waypoint runs: the control plane gives it a token for its own identity only. */
export interface WaypointPlacement {
  readonly namespace: string;
  readonly name: string;
  /** `spiffe://<td>/ns/<ns>/sa/<Gateway name or gateway.istio.io/service-account>` */
  readonly identity: string;
  /** Nodes of its pods (the synthesized one, or declared pods labelled with the Gateway name), sorted. */
  readonly nodes: readonly string[];
}

export function identityOf(trustDomain: string, pod: PodRec): string {
  return formatIstioIdentity({ trustDomain, namespace: pod.meta.namespace, serviceAccount: pod.serviceAccount });
}

function waypointPlacement(waypoint: WaypointRec, pods: readonly PodRec[], trustDomain: string): WaypointPlacement {
  const { namespace, name } = waypoint.meta;
  const nodes = new Set<string>();
  for (const pod of pods) {
    if (pod.meta.namespace !== namespace || pod.node === undefined) continue;
    const ours = pod.synthetic ? pod.meta.name === name : pod.meta.labels[LABEL.gatewayName] === name;
    if (ours) nodes.add(pod.node);
  }
  return {
    namespace,
    name,
    identity: formatIstioIdentity({ trustDomain, namespace, serviceAccount: waypoint.serviceAccount }),
    nodes: [...nodes].sort(),
  };
}

export function buildPlacement(
  pods: readonly PodRec[],
  nodes: ReadonlyMap<string, NodeRec>,
  trustDomain: string,
  waypoints: Iterable<WaypointRec> = [],
): Placement {
  const byNode = new Map<string, Set<string>>();
  for (const name of nodes.keys()) byNode.set(name, new Set());
  for (const pod of pods) {
    if (pod.node === undefined) continue;
    let set = byNode.get(pod.node);
    if (set === undefined) byNode.set(pod.node, (set = new Set()));
    set.add(identityOf(trustDomain, pod));
  }
  const sorted = new Map([...byNode.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const placed = [...waypoints]
    .map((waypoint) => waypointPlacement(waypoint, pods, trustDomain))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return { nodes: [...sorted.keys()], identitiesByNode: sorted, waypoints: placed };
}

/** May `node`'s ztunnel obtain a certificate for `identity`? */
export function mayIssue(placement: Placement, node: string, identity: string): boolean {
  return placement.identitiesByNode.get(node)?.has(identity) ?? false;
}
