// The xDS handler for the L7 objects: type.googleapis.com/google.protobuf.Struct resources named
// `Kind/namespace/name`, each a plain Kubernetes object. Bad objects are NACKed with a reason naming the
// object and field; the store keeps the last good version.
import { decodeResource } from '@ambient-ts/istio-api';
import type { XdsHandler, XdsRejection } from '@ambient-ts/xds';
import type { L7Store } from './l7-store.ts';

export const L7_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';

export function l7Handler(store: L7Store): XdsHandler {
  return {
    handle(update) {
      const rejected: XdsRejection[] = [];
      const upserts: { name: string; json: unknown }[] = [];
      for (const resource of update.resources) {
        if (resource.resource?.typeUrl !== L7_TYPE_URL) {
          rejected.push({
            name: resource.name,
            reason: `resource type ${resource.resource?.typeUrl ?? '(none)'} is not ${L7_TYPE_URL}`,
          });
          continue;
        }
        try {
          upserts.push({ name: resource.name, json: decodeResource(L7_TYPE_URL, resource.resource.value) });
        } catch (error) {
          rejected.push({ name: resource.name, reason: (error as Error).message });
        }
      }
      const applied = store.apply(upserts, update.removed);
      return { rejected: [...rejected, ...applied.rejected] };
    },
  };
}
