// Istio resources as an xDS server serves them: the names ztunnel keys them by, and Address aliases
// (`network/ip`) for on-demand lookups.
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  base64ToBytes,
  type security,
  type workload,
} from '@ambient-ts/istio-api';
import { policyKey } from '@ambient-ts/policy';
import type { ResourceInput } from '@ambient-ts/xds';
import { serviceKey } from '../model.ts';
import { ipFromBytes, networkAddressKey } from '@ambient-ts/addresses';

/** xDS name ztunnel uses: Workload uid, Service `namespace/hostname`. */
export function addressResourceName(address: workload.Address): string | undefined {
  if (address.workload) return address.workload.uid ?? '';
  if (address.service)
    return serviceKey({ namespace: address.service.namespace ?? '', hostname: address.service.hostname ?? '' });
  return undefined;
}

/** xDS name of an Authorization: `namespace/name`. */
export function authorizationResourceName(policy: security.Authorization): string {
  return policyKey(policy.namespace ?? '', policy.name ?? '');
}

/** An Istio Address resource named as istiod names it, with `network/ip` aliases for on-demand lookups. */
export function addressResource(address: workload.Address, version?: string): ResourceInput & { typeUrl: string } {
  const aliases: string[] = [];
  if (address.workload) {
    for (const ip of address.workload.addresses ?? []) {
      const text = ipFromBytes(base64ToBytes(ip));
      if (text) aliases.push(networkAddressKey(address.workload.network ?? '', text));
    }
  } else if (address.service) {
    for (const vip of address.service.addresses ?? []) {
      const text = ipFromBytes(base64ToBytes(vip.address ?? ''));
      if (text) aliases.push(networkAddressKey(vip.network ?? '', text));
    }
  }
  return {
    name: addressResourceName(address) ?? '',
    json: address,
    aliases,
    typeUrl: ADDRESS_TYPE_URL,
    ...(version ? { version } : {}),
  };
}

export function authorizationResource(
  policy: security.Authorization,
  version?: string,
): ResourceInput & { typeUrl: string } {
  return {
    name: authorizationResourceName(policy),
    json: policy,
    typeUrl: AUTHORIZATION_TYPE_URL,
    ...(version ? { version } : {}),
  };
}
