// xDS handlers that feed a DiscoveryStore: decode, validate, convert, apply one push atomically.
// Invalid resources are rejected one by one (the store keeps their last good version).
import { decodeResource } from '../codec/resource.ts';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '../codec/registry.ts';
import { toService, toWorkload } from '../convert.ts';
import { errorMessage } from '../errors.ts';
import type { Service, Workload } from '../model.ts';
import type { DiscoveryStore } from '../store/store.ts';
import { validateAddress, validateAuthorization, type ValidationIssue } from '../validate/validate.ts';
import type { XdsAuthorization } from '../xds-types.ts';
import type { XdsHandler, XdsRejection } from './client-types.ts';

function reason(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.reason}`).join(', ');
}

function wrongType(name: string, typeUrl: string | undefined, expected: string): XdsRejection {
  return { name, reason: `resource type ${typeUrl ?? '(none)'} is not ${expected}` };
}

/** Handler for type.googleapis.com/istio.workload.Address (workloads and services). */
export function addressHandler(store: DiscoveryStore): XdsHandler {
  return {
    handle(update) {
      const rejected: XdsRejection[] = [];
      const workloads: Workload[] = [];
      const services: Service[] = [];
      for (const resource of update.resources) {
        if (resource.resource?.typeUrl !== ADDRESS_TYPE_URL) {
          rejected.push(wrongType(resource.name, resource.resource?.typeUrl, ADDRESS_TYPE_URL));
          continue;
        }
        try {
          const address = decodeResource(ADDRESS_TYPE_URL, resource.resource.value);
          const issues = validateAddress(resource.name, address);
          if (issues.length > 0) rejected.push({ name: resource.name, reason: reason(issues) });
          else if (address.workload) workloads.push(toWorkload(address.workload));
          else if (address.service) services.push(toService(address.service));
        } catch (error) {
          rejected.push({ name: resource.name, reason: errorMessage(error) });
        }
      }
      store.apply({ workloads, services, removeAddresses: update.removed });
      return { rejected };
    },
  };
}

/** Handler for type.googleapis.com/istio.security.Authorization (kept in proto3 JSON form). */
export function authorizationHandler(store: DiscoveryStore): XdsHandler {
  return {
    handle(update) {
      const rejected: XdsRejection[] = [];
      const policies: XdsAuthorization[] = [];
      for (const resource of update.resources) {
        if (resource.resource?.typeUrl !== AUTHORIZATION_TYPE_URL) {
          rejected.push(wrongType(resource.name, resource.resource?.typeUrl, AUTHORIZATION_TYPE_URL));
          continue;
        }
        try {
          const policy = decodeResource(AUTHORIZATION_TYPE_URL, resource.resource.value);
          const issues = validateAuthorization(resource.name, policy);
          if (issues.length > 0) rejected.push({ name: resource.name, reason: reason(issues) });
          else policies.push(policy);
        } catch (error) {
          rejected.push({ name: resource.name, reason: errorMessage(error) });
        }
      }
      store.apply({ policies, removePolicies: update.removed });
      return { rejected };
    },
  };
}

/** Both Istio handlers, keyed by type URL, ready for XdsClientOptions.handlers. */
export function storeHandlers(store: DiscoveryStore): Record<string, XdsHandler> {
  return { [ADDRESS_TYPE_URL]: addressHandler(store), [AUTHORIZATION_TYPE_URL]: authorizationHandler(store) };
}
