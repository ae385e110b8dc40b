// HTTPRoute backendRefs: weighted choice (weight 0 never chosen; all zero = no backend) and resolution
// to a Service with a port. An unusable backend is a 500 for the requests it gets (Gateway API).
import type { DiscoveryStore, Service } from '@ambient-ts/discovery';
import type { BackendRef } from '../l7/httproute-model.ts';

export type ResolvedBackend =
  | { readonly kind: 'service'; readonly service: Service; readonly port: number }
  | { readonly kind: 'invalid'; readonly reason: string };

export function pickBackend(backends: readonly BackendRef[], random: () => number): BackendRef | undefined {
  const total = backends.reduce((sum, backend) => sum + backend.weight, 0);
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const backend of backends) {
    if (backend.weight === 0) continue;
    if (point < backend.weight) return backend;
    point -= backend.weight;
  }
  return backends.findLast((backend) => backend.weight > 0);
}

export function resolveBackend(
  store: DiscoveryStore,
  backend: BackendRef,
  routeNamespace: string,
  clusterDomain: string,
  defaultPort: number,
): ResolvedBackend {
  const ref = `${backend.namespace}/${backend.name}`;
  if (!(backend.group === '' || backend.group === 'core') || backend.kind !== 'Service') {
    return { kind: 'invalid', reason: `backend ${backend.group}/${backend.kind} ${ref} is not a Service` };
  }
  if (backend.namespace !== routeNamespace) {
    return {
      kind: 'invalid',
      reason: `backend ${ref} is in another namespace (a ReferenceGrant would be needed; not supported)`,
    };
  }
  const service = store.getService(`${backend.namespace}/${backend.name}.${backend.namespace}.svc.${clusterDomain}`);
  if (!service) return { kind: 'invalid', reason: `backend Service ${ref} was not found` };
  const port = backend.port ?? defaultPort;
  if (!service.ports.some((p) => p.servicePort === port)) {
    return { kind: 'invalid', reason: `backend Service ${ref} has no port ${port}` };
  }
  return { kind: 'service', service, port };
}
