// Small pure helpers shared by the routing functions.
import { canonicalIp, ipFamily } from '@ambient-ts/addresses';
import { workloadIdentity, type IpFamilies, type Service, type Workload } from '../model.ts';

/** SPIFFE SANs a service adds to its endpoints' expected identities (unparseable ones ignored). */
export function serviceSans(service: Service | undefined): string[] {
  return (service?.subjectAltNames ?? []).filter((san) => /^spiffe:\/\/[^/]*\/ns\/[^/]*\/sa\/[^/]*$/.test(san));
}

export function expectedIdentities(workload: Workload, service?: Service): string[] {
  const ids = [workloadIdentity(workload), ...serviceSans(service)];
  return [...new Set(ids)];
}

/**
 * The IP to dial for an endpoint: the original destination if it is one of the workload's IPs,
 * otherwise one allowed by the service's IP families, preferring the original destination's family.
 */
export function chooseIp(
  workload: Workload,
  originalIp: string | undefined,
  families?: IpFamilies,
): string | undefined {
  const original = originalIp === undefined ? undefined : (canonicalIp(originalIp) ?? originalIp);
  if (original !== undefined && workload.workloadIps.includes(original)) return original;
  const allowed = workload.workloadIps.filter((ip) => {
    if (families === 'IPv4') return ipFamily(ip) === 4;
    if (families === 'IPv6') return ipFamily(ip) === 6;
    return true;
  });
  const family = original === undefined ? undefined : ipFamily(original);
  return allowed.find((ip) => ipFamily(ip) === family) ?? allowed[0];
}

/** Weighted random pick; zero weights are never chosen; undefined when all weights are zero. */
export function weightedPick<T>(items: readonly T[], weight: (item: T) => number, random: () => number): T | undefined {
  let total = 0;
  for (const item of items) total += Math.max(0, weight(item));
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const item of items) {
    const w = Math.max(0, weight(item));
    if (w === 0) continue;
    if (point < w) return item;
    point -= w;
  }
  // floating point edge: the last non-zero item
  for (let i = items.length - 1; i >= 0; i--) if (weight(items[i]!) > 0) return items[i];
  return undefined;
}
