// Endpoint selection for a Service (facts §2.2): health filter (in the store), usability and port
// checks, locality ranking (STRICT/FAILOVER), weighted random by capacity, port mapping, IP choice.
import type { DiscoveryStore } from '../store/store.ts';
import type { Endpoint, LoadBalancerScope, Service, Workload } from '../model.ts';
import { serviceKey } from '../model.ts';
import { chooseIp, weightedPick } from './address.ts';
import type { Dial } from './types.ts';

export interface SelectedEndpoint {
  readonly workload: Workload;
  readonly endpoint: Endpoint;
  /** resolved target port on the workload */
  readonly port: number;
  /** undefined for workloads reachable only through their network gateway */
  readonly dial?: Dial;
}

export interface SelectOptions {
  readonly source: Workload;
  readonly servicePort: number;
  /** the original destination IP, to keep the same family */
  readonly originalIp?: string;
  readonly random: () => number;
  /** waypoint/gateway resolution: the port need not be declared on the Service */
  readonly allowUndeclaredPort?: boolean;
}

function scopeMatches(scope: LoadBalancerScope, src: Workload, dst: Workload): boolean {
  switch (scope) {
    case 'Region':
      return src.locality.region === dst.locality.region;
    case 'Zone':
      return src.locality.zone === dst.locality.zone;
    case 'Subzone':
      return src.locality.subzone === dst.locality.subzone;
    case 'Node':
      return src.node === dst.node;
    case 'Cluster':
      return src.clusterId === dst.clusterId;
    case 'Network':
      return src.network === dst.network;
  }
}

/**
 * Locality rank: leading routing preferences the endpoint shares with the source. When NETWORK is the
 * first preference, a network match is worth len-1 extra and a mismatch does not stop the count.
 * `full` tells whether every preference matched (STRICT keeps only those).
 */
export function localityRank(
  prefs: readonly LoadBalancerScope[],
  src: Workload,
  dst: Workload,
): { rank: number; full: boolean } {
  let rank = 0;
  let full = true;
  for (let i = 0; i < prefs.length; i++) {
    const scope = prefs[i]!;
    const matches = scopeMatches(scope, src, dst);
    if (i === 0 && scope === 'Network' && prefs.length > 1) {
      if (matches) rank += prefs.length;
      else full = false;
      continue;
    }
    if (!matches) {
      full = false;
      break;
    }
    rank += 1;
  }
  return { rank, full };
}

/** Pick one endpoint of `service` for a connection, or undefined when none is usable. */
export function selectEndpoint(
  store: DiscoveryStore,
  service: Service,
  options: SelectOptions,
): SelectedEndpoint | undefined {
  const declared = service.ports.find((p) => p.servicePort === options.servicePort);
  if (!declared && !options.allowUndeclaredPort) return undefined;
  let candidates: { workload: Workload; endpoint: Endpoint; port: number }[] = [];
  for (const endpoint of store.endpoints(serviceKey(service))) {
    const workload = store.getWorkload(endpoint.workloadUid);
    if (!workload) continue;
    if (workload.workloadIps.length === 0 && !workload.hostname) {
      // reachable only through its network's gateway
      if (workload.network === options.source.network || !workload.networkGateway) continue;
    }
    const mapped = endpoint.ports.get(options.servicePort);
    let port: number | undefined;
    if (mapped !== undefined && mapped !== 0) port = mapped;
    else if (declared && declared.targetPort !== 0) port = declared.targetPort;
    else if (declared && declared.targetPort === 0)
      port = undefined; // named port without a mapping
    else if (workload.applicationTunnel?.port !== undefined || options.allowUndeclaredPort) port = options.servicePort;
    if (port === undefined) continue;
    candidates.push({ workload, endpoint, port });
  }
  const lb = service.loadBalancer;
  if (lb && (lb.mode === 'Strict' || lb.mode === 'Failover') && candidates.length > 0) {
    const ranked = candidates
      .map((c) => ({ c, ...localityRank(lb.routingPreferences, options.source, c.workload) }))
      .filter((r) => lb.mode !== 'Strict' || r.full);
    const max = Math.max(-1, ...ranked.map((r) => r.rank));
    candidates = ranked.filter((r) => r.rank === max).map((r) => r.c);
  }
  // candidates keep the store's insertion order, so a seeded random gives repeatable picks
  const picked = weightedPick(candidates, (c) => c.workload.capacity, options.random);
  if (!picked) return undefined;
  const ip = chooseIp(picked.workload, options.originalIp, service.ipFamilies);
  const dial: Dial | undefined =
    ip !== undefined
      ? { kind: 'ip', ip, port: picked.port }
      : picked.workload.hostname
        ? { kind: 'dns', hostname: picked.workload.hostname, port: picked.port }
        : undefined;
  return { ...picked, ...(dial ? { dial } : {}) };
}
