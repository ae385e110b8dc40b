// Which policies attach where. Pure helpers; callers (discovery's store, the waypoint) decide when to call.
import type { Attachment, TargetRef } from './model.ts';

interface Attachable {
  readonly namespace: string;
  readonly attachment: Attachment;
}

export interface WaypointTarget {
  /** meshConfig rootNamespace (usually istio-system): where GatewayClass-targeted policies live. */
  readonly rootNamespace: string;
  /** The waypoint's Gateway. */
  readonly gateway: { readonly name: string; readonly namespace: string; readonly gatewayClassName?: string };
  /** The Service (or ServiceEntry) the request is for, when known. */
  readonly service?: { readonly kind?: 'Service' | 'ServiceEntry'; readonly name: string; readonly namespace: string };
}

function refMatches(ref: TargetRef, policyNamespace: string, target: WaypointTarget): boolean {
  const group = ref.group === 'core' ? '' : ref.group;
  if (group === 'gateway.networking.k8s.io' && ref.kind === 'Gateway') {
    return ref.name === target.gateway.name && policyNamespace === target.gateway.namespace;
  }
  if (group === 'gateway.networking.k8s.io' && ref.kind === 'GatewayClass') {
    return (
      ref.name === (target.gateway.gatewayClassName ?? 'istio-waypoint') && policyNamespace === target.rootNamespace
    );
  }
  const service = target.service;
  if (!service) return false;
  const kind = service.kind ?? 'Service';
  if (group === '' && ref.kind === 'Service' && kind === 'Service') {
    return ref.name === service.name && policyNamespace === service.namespace;
  }
  if (group === 'networking.istio.io' && ref.kind === 'ServiceEntry' && kind === 'ServiceEntry') {
    return ref.name === service.name && policyNamespace === service.namespace;
  }
  return false;
}

/**
 * Does the policy attach to this waypoint (for this service)? Waypoints use `targetRefs` only:
 * Gateway (policy in the waypoint's namespace), GatewayClass (policy in the root namespace), Service /
 * ServiceEntry (policy in the service's namespace). Selector and namespace-wide policies are ztunnel's.
 */
export function attachesToWaypoint(policy: Attachable, target: WaypointTarget): boolean {
  if (policy.attachment.kind !== 'targetRefs') return false;
  return policy.attachment.targetRefs.some((ref) => refMatches(ref, policy.namespace, target));
}

/** The policies (AuthorizationPolicy or RequestAuthentication) a waypoint applies to this request. */
export function selectForWaypoint<T extends Attachable>(policies: readonly T[], target: WaypointTarget): T[] {
  return policies.filter((policy) => attachesToWaypoint(policy, target));
}

export interface WorkloadRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Does a Kubernetes-shaped policy apply to a workload at ztunnel (L4)? Namespace-wide policies apply in
 * their namespace (or everywhere from the root namespace); selector policies when every label matches
 * (from the root namespace: in every namespace); targetRefs policies never.
 */
export function appliesToWorkload(
  policy: Attachable,
  workload: WorkloadRef,
  options: { rootNamespace: string },
): boolean {
  const sameScope = policy.namespace === workload.namespace || policy.namespace === options.rootNamespace;
  switch (policy.attachment.kind) {
    case 'targetRefs':
      return false;
    case 'namespace':
      return sameScope;
    case 'selector':
      if (!sameScope) return false;
      for (const [key, value] of Object.entries(policy.attachment.matchLabels)) {
        if (workload.labels[key] !== value) return false;
      }
      return true;
    case 'xds':
      // GLOBAL and NAMESPACE are decided here; WORKLOAD_SELECTOR needs the workload's policy list.
      if (policy.attachment.scope === 'GLOBAL') return true;
      if (policy.attachment.scope === 'NAMESPACE') return policy.namespace === workload.namespace;
      return false;
  }
}
