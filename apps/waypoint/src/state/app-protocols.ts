// Service port protocols as istiod declares them in the workload API (`Port.app_protocol`), which the
// discovery model does not keep: an Address handler wrapper records them before the store applies the push.
import { addressHandler, type DiscoveryStore } from '@ambient-ts/discovery';
import { ADDRESS_TYPE_URL, decodeResource } from '@ambient-ts/istio-api';
import type { XdsHandler } from '@ambient-ts/xds';

export type AppProtocol = 'UNKNOWN' | 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS';

export class AppProtocols {
  /** `namespace/hostname` → service port → protocol. */
  readonly #byService = new Map<string, Map<number, AppProtocol>>();

  get(serviceKey: string, servicePort: number): AppProtocol {
    return this.#byService.get(serviceKey)?.get(servicePort) ?? 'UNKNOWN';
  }

  set(serviceKey: string, ports: Map<number, AppProtocol>): void {
    if (ports.size === 0) this.#byService.delete(serviceKey);
    else this.#byService.set(serviceKey, ports);
  }

  delete(serviceKey: string): void {
    this.#byService.delete(serviceKey);
  }
}

/** discovery's Address handler, plus recording each Service's port protocols. */
export function addressHandlerWithProtocols(store: DiscoveryStore, protocols: AppProtocols): XdsHandler {
  const inner = addressHandler(store);
  return {
    async handle(update) {
      const result = await inner.handle(update);
      const rejected = new Set((result.rejected ?? []).map((r) => r.name));
      for (const name of update.removed) protocols.delete(name);
      for (const resource of update.resources) {
        if (rejected.has(resource.name) || resource.resource?.typeUrl !== ADDRESS_TYPE_URL) continue;
        try {
          const service = decodeResource(ADDRESS_TYPE_URL, resource.resource.value).service;
          if (!service) continue;
          const ports = new Map<number, AppProtocol>();
          for (const port of service.ports ?? []) {
            if (typeof port.appProtocol === 'string' && port.appProtocol !== 'UNKNOWN')
              ports.set(port.servicePort ?? 0, port.appProtocol);
          }
          protocols.set(`${service.namespace ?? ''}/${service.hostname ?? ''}`, ports);
        } catch {
          // The inner handler accepted it, so it decodes; nothing to record otherwise.
        }
      }
      return result;
    },
  };
}
