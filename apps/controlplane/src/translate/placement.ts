// Node authorization input for the CA: which identities run on which node. istiod grants a node's ztunnel
// an identity only if a pod with that namespace and service account is scheduled there (ztunnel-facts §4.3).
import { formatIstioIdentity } from '@ambient-ts/spiffe';
import type { NodeRec, PodRec } from './model.ts';

export interface Placement {
  /** Every node named by a Node object or a pod's nodeName, sorted. */
  readonly nodes: readonly string[];
  /** node → `spiffe://<td>/ns/<ns>/sa/<sa>` of the pods on it. */
  readonly identitiesByNode: ReadonlyMap<string, ReadonlySet<string>>;
}

export function identityOf(trustDomain: string, pod: PodRec): string {
  return formatIstioIdentity({ trustDomain, namespace: pod.meta.namespace, serviceAccount: pod.serviceAccount });
}

export function buildPlacement(
  pods: readonly PodRec[],
  nodes: ReadonlyMap<string, NodeRec>,
  trustDomain: string,
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
  return { nodes: [...sorted.keys()], identitiesByNode: sorted };
}

/** May `node`'s ztunnel obtain a certificate for `identity`? */
export function mayIssue(placement: Placement, node: string, identity: string): boolean {
  return placement.identitiesByNode.get(node)?.has(identity) ?? false;
}
