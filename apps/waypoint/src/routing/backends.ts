// HTTPRoute backendRefs → a Service of the discovery store with a port (the weighted choice is
// @ambient-ts/routes' pickBackend). An unusable backend is a 500 for the requests it gets (Gateway API).
import type { DiscoveryStore, Service } from '@ambient-ts/discovery';
import type { BackendRef, BackendResolution } from '@ambient-ts/routes';

export function resolveBackend(
  store: DiscoveryStore,
  backend: BackendRef,
  routeNamespace: string,
  clusterDomain: string,
  defaultPort: number,
): BackendResolution<Service> {
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
