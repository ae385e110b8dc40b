// xDS handlers that feed a DiscoveryStore: each resource is decoded, validated and converted into the domain
// model when it arrives, and one push is applied atomically. A resource that fails is NACKed with its name
// and the field. An Address that fails is left out (the store keeps its last good version); an
// Authorization that fails is enforced fail-closed in its place (see fromXdsAuthorization), so a NACK
// never opens a hole.
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, decodeResource } from '@ambient-ts/istio-api';
import { fromXdsAuthorization, type AuthorizationPolicy } from '@ambient-ts/policy';
import { resourceHandler, type XdsHandler } from '@ambient-ts/xds';
import { toService, toWorkload } from '../convert.ts';
import type { Service, Workload } from '../model.ts';
import type { DiscoveryStore } from '../store/store.ts';
import { validateAddress, type ValidationIssue } from '../validate/validate.ts';

function reason(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.reason}`).join(', ');
}

type AddressValue = { readonly workload: Workload } | { readonly service: Service };

/** Handler for type.googleapis.com/istio.workload.Address (workloads and services). */
export function addressHandler(store: DiscoveryStore): XdsHandler {
  return resourceHandler<AddressValue>({
    typeUrl: ADDRESS_TYPE_URL,
    convert(name, any) {
      const address = decodeResource(ADDRESS_TYPE_URL, any.value);
      const issues = validateAddress(name, address);
      if (issues.length > 0) return { ok: false, reason: reason(issues) };
      if (address.workload) return { ok: true, value: { workload: toWorkload(address.workload) } };
      return { ok: true, value: { service: toService(address.service!) } };
    },
    apply(values, removed) {
      const workloads: Workload[] = [];
      const services: Service[] = [];
      for (const { value } of values) {
        if ('workload' in value) workloads.push(value.workload);
        else services.push(value.service);
      }
      store.apply({ workloads, services, removeAddresses: removed });
    },
  });
}

/**
 * The domain policy of one Authorization resource: converted through policy's converter; on failure the
 * NACK reason naming each field and the fail-closed stand-in, keyed by the resource name (so removing the
 * resource removes it even when its name or namespace was the broken part).
 */
export function convertAuthorization(
  name: string,
  bytes: Uint8Array,
):
  | { readonly ok: true; readonly value: AuthorizationPolicy }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly enforce: AuthorizationPolicy;
    } {
  const result = fromXdsAuthorization(decodeResource(AUTHORIZATION_TYPE_URL, bytes));
  if (result.ok) return { ok: true, value: result.policy };
  const problems = result.problems.map((problem) => `${problem.field}: ${problem.message} (${problem.effect})`);
  return { ok: false, reason: problems.join(', '), enforce: { ...result.failClosed, key: name } };
}

/** Handler for type.googleapis.com/istio.security.Authorization: the store gets domain policies. */
export function authorizationHandler(store: DiscoveryStore): XdsHandler {
  return resourceHandler<AuthorizationPolicy>({
    typeUrl: AUTHORIZATION_TYPE_URL,
    convert: (name, any) => convertAuthorization(name, any.value),
    apply(values, removed) {
      store.apply({ policies: values.map(({ value }) => value), removePolicies: removed });
    },
  });
}

/** Both Istio handlers, keyed by type URL, ready for XdsClientOptions.handlers. */
export function storeHandlers(store: DiscoveryStore): Record<string, XdsHandler> {
  return { [ADDRESS_TYPE_URL]: addressHandler(store), [AUTHORIZATION_TYPE_URL]: authorizationHandler(store) };
}
