// The mesh side of the DNS proxy as one pure function: which Service (if any) a query names from the
// client pod's point of view, and the authoritative answer for it (ztunnel src/dns/server.rs, facts §10).
// Anything it does not answer is forwarded upstream by the caller.
import { isIP } from 'node:net';
import type { Endpoint, Service, Workload } from '@ambient-ts/discovery';
import { aliases, normalizeName, wildcardCandidates, type Alias } from './names.ts';
import { LOCAL_TTL_SECONDS, type AddressType, type LocalRecord } from './model.ts';

/** What the resolver reads from the workload store (DiscoveryStore has exactly these). */
export interface MeshView {
  findServicesByHostname(hostname: string): readonly Service[];
  /** Endpoints of a Service by `namespace/hostname` (healthy ones, unless its policy allows all). */
  endpoints(serviceKey: string): readonly Endpoint[];
  getWorkload(uid: string): Workload | undefined;
}

/** The querying pod as the resolver needs it. */
export type DnsClient = Pick<Workload, 'namespace' | 'network'>;

export interface MeshResolverOptions {
  /** CLUSTER_DOMAIN, e.g. `cluster.local`. */
  readonly clusterDomain: string;
  /** PREFERED_SERVICE_NAMESPACE: the tie-break namespace after the client's own and `canonical`. */
  readonly preferredNamespace?: string;
  /** IPV6_ENABLED: false answers AAAA with no records. */
  readonly ipv6Enabled: boolean;
  /** [0, 1) source for the shuffle; tests pass a fixed one. Default Math.random. */
  readonly random?: () => number;
}

/** Why a local answer has the records it has (the access log's `result`). */
export type LocalResult = 'success' | 'no records' | 'service does not support this record type';

export type MeshResolution =
  | { readonly kind: 'forward'; readonly reason: 'not an address query' | 'unknown host' }
  | {
      readonly kind: 'answer';
      /** CNAME first when the name was found by stripping a search domain, then the addresses. */
      readonly records: readonly LocalRecord[];
      readonly result: LocalResult;
      readonly service: Service;
      /** The hostname (or wildcard) it matched. */
      readonly matched: string;
    };

const serviceKey = (service: Service): string => `${service.namespace}/${service.hostname}`;

function familyOf(address: string): AddressType | undefined {
  const family = isIP(address);
  return family === 4 ? 'A' : family === 6 ? 'AAAA' : undefined;
}

/** ztunnel's "best" service for a name: the client's namespace, else canonical, else preferred, else first. */
export function pickService(
  services: readonly Service[],
  clientNamespace: string,
  preferredNamespace?: string,
): Service | undefined {
  return (
    services.find((service) => service.namespace === clientNamespace) ??
    services.find((service) => service.canonical) ??
    (preferredNamespace ? services.find((service) => service.namespace === preferredNamespace) : undefined) ??
    services[0]
  );
}

/** The Service a query means and the alias that found it, trying each alias against its wildcards. */
export function findService(
  view: MeshView,
  client: DnsClient,
  name: string,
  searchDomains: readonly string[],
  options: MeshResolverOptions,
): { service: Service; matched: string; alias: Alias } | undefined {
  const headlessSuffix = `.svc.${normalizeName(options.clusterDomain)}`;
  for (const alias of aliases(name, client.namespace, normalizeName(options.clusterDomain), searchDomains)) {
    for (const candidate of wildcardCandidates(alias.name)) {
      const services = view
        .findServicesByHostname(candidate)
        // no VIP: only Kubernetes headless services are answered (one record per endpoint); others forward
        .filter((service) => service.vips.length > 0 || service.hostname.endsWith(headlessSuffix))
        .filter((service) => service.visibility !== 'Namespace' || service.namespace === client.namespace);
      const service = pickService(services, client.namespace, options.preferredNamespace);
      if (service) return { service, matched: candidate, alias };
    }
  }
  return undefined;
}

/** Whether a Service may be answered for this family at all (ip_families, IPV6_ENABLED). */
export function familyAllowed(service: Service, type: AddressType, ipv6Enabled: boolean): boolean {
  if (type === 'AAAA' && !ipv6Enabled) return false;
  if (service.ipFamilies === 'IPv4' && type === 'AAAA') return false;
  if (service.ipFamilies === 'IPv6' && type === 'A') return false;
  return true;
}

/** VIPs on the client's network (headless: each endpoint's first IP) of the family, shuffled. */
export function serviceAddresses(
  view: MeshView,
  client: DnsClient,
  service: Service,
  type: AddressType,
  random: () => number = Math.random,
): string[] {
  const addresses: string[] = [];
  if (service.vips.length === 0) {
    for (const endpoint of view.endpoints(serviceKey(service))) {
      const workload = view.getWorkload(endpoint.workloadUid);
      const ip = workload?.workloadIps.find((address) => familyOf(address) === type);
      if (ip) addresses.push(ip);
    }
  } else {
    for (const vip of service.vips) {
      if (vip.network === client.network && familyOf(vip.address) === type) addresses.push(vip.address);
    }
  }
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [addresses[i], addresses[j]] = [addresses[j]!, addresses[i]!];
  }
  return addresses;
}

/**
 * Resolve one question for `client`: an authoritative answer when the name is a mesh Service (empty when it
 * has no address of that family — NOERROR, never NXDOMAIN), else `forward`.
 */
export function resolveMesh(
  view: MeshView,
  client: DnsClient,
  question: { readonly name: string; readonly type: string },
  searchDomains: readonly string[],
  options: MeshResolverOptions,
): MeshResolution {
  const type = question.type;
  if (type !== 'A' && type !== 'AAAA') return { kind: 'forward', reason: 'not an address query' };
  const found = findService(view, client, question.name, searchDomains, options);
  if (!found) return { kind: 'forward', reason: 'unknown host' };
  const { service, matched, alias } = found;
  const answer = (records: LocalRecord[], result: LocalResult): MeshResolution => ({
    kind: 'answer',
    records,
    result,
    service,
    matched,
  });
  if (!familyAllowed(service, type, options.ipv6Enabled)) {
    return answer([], 'service does not support this record type');
  }
  const addresses = serviceAddresses(view, client, service, type, options.random);
  if (addresses.length === 0) return answer([], 'no records');
  const records: LocalRecord[] = [];
  let recordName = question.name;
  if (alias.stripped !== undefined && !matched.startsWith('*.')) {
    records.push({ type: 'CNAME', name: question.name, target: alias.stripped, ttl: LOCAL_TTL_SECONDS });
    recordName = alias.stripped;
  }
  for (const address of addresses) records.push({ type, name: recordName, address, ttl: LOCAL_TTL_SECONDS });
  return answer(records, 'success');
}
