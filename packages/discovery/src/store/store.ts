// The indexed workload/service/policy store ztunnel routes and authorizes with. Updates are applied
// synchronously as a whole (atomic per push for every reader) and announced once to subscribers.
import { canonicalIp, cidrContains, networkAddressKey, parseIp, type Cidr } from '@ambient-ts/addresses';
import type { AuthorizationPolicy } from '@ambient-ts/policy';
import { serviceKey, type Endpoint, type Service, type Workload } from '../model.ts';
import { MultiMap } from './multimap.ts';
import { buildSnapshot, type StoreSnapshot } from './snapshot.ts';
import type { StoreChange, StoreListener, StoreUpdate } from './types.ts';

interface CidrEntry {
  readonly network: string;
  readonly range: Cidr;
  readonly key: string;
}

export type AddressLookup =
  { readonly kind: 'workload'; readonly workload: Workload } | { readonly kind: 'service'; readonly service: Service };

export class DiscoveryStore {
  readonly #workloads = new Map<string, Workload>();
  readonly #byAddress = new MultiMap<string, string>();
  readonly #byHostname = new MultiMap<string, string>();
  readonly #byNode = new MultiMap<string, string>();
  readonly #endpoints = new MultiMap<string, string>();
  readonly #services = new Map<string, Service>();
  readonly #servicesByVip = new MultiMap<string, string>();
  readonly #servicesByHostname = new MultiMap<string, string>();
  #cidrs: CidrEntry[] = [];
  readonly #policies = new Map<string, AuthorizationPolicy>();
  readonly #policiesByNamespace = new MultiMap<string, string>();
  readonly #globalPolicies = new Set<string>();
  readonly #listeners = new Set<StoreListener>();
  #version = 0;

  /** Apply one push atomically and notify subscribers once. Returns what changed. */
  apply(update: StoreUpdate): StoreChange {
    const change = {
      workloads: { upserted: [] as Workload[], removed: [] as Workload[] },
      services: { upserted: [] as Service[], removed: [] as Service[] },
      policies: { upserted: [] as AuthorizationPolicy[], removed: [] as AuthorizationPolicy[] },
    };
    for (const name of update.removeAddresses ?? []) {
      const workload = this.#removeWorkload(name);
      if (workload) change.workloads.removed.push(workload);
      else {
        const slash = name.indexOf('/');
        if (slash < 0 || name.slice(slash + 1).includes('/')) continue;
        const service = this.#removeService(name);
        if (service) change.services.removed.push(service);
      }
    }
    for (const uid of update.removeWorkloads ?? []) {
      const workload = this.#removeWorkload(uid);
      if (workload) change.workloads.removed.push(workload);
    }
    for (const key of update.removeServices ?? []) {
      const service = this.#removeService(key);
      if (service) change.services.removed.push(service);
    }
    for (const key of update.removePolicies ?? []) {
      const policy = this.#removePolicy(key);
      if (policy) change.policies.removed.push(policy);
    }
    for (const service of update.services ?? []) {
      this.#removeService(serviceKey(service));
      this.#addService(service);
      change.services.upserted.push(service);
    }
    for (const workload of update.workloads ?? []) {
      this.#removeWorkload(workload.uid);
      this.#addWorkload(workload);
      change.workloads.upserted.push(workload);
    }
    for (const policy of update.policies ?? []) {
      this.#removePolicy(policy.key);
      this.#addPolicy(policy);
      change.policies.upserted.push(policy);
    }
    this.#version++;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // a failing subscriber must not break the update for the others
      }
    }
    return change;
  }

  /** Subscribe to every applied update; returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Increments on every apply. */
  get version(): number {
    return this.#version;
  }

  // --- workloads

  getWorkload(uid: string): Workload | undefined {
    return this.#workloads.get(uid);
  }

  workloads(): IterableIterator<Workload> {
    return this.#workloads.values();
  }

  get workloadCount(): number {
    return this.#workloads.size;
  }

  /** The workload at `network/ip`; several on one IP prefer a Pod uid (`//Pod/`) and HBONE. */
  findWorkloadByAddress(network: string, ip: string): Workload | undefined {
    let best: Workload | undefined;
    let bestScore = -1;
    for (const uid of this.#byAddress.get(networkAddressKey(network, canonicalIp(ip) ?? ip))) {
      const workload = this.#workloads.get(uid)!;
      const score = (uid.includes('//Pod/') ? 2 : 0) + (workload.protocol === 'HBONE' ? 1 : 0);
      if (score > bestScore || (score === bestScore && best && uid < best.uid)) {
        best = workload;
        bestScore = score;
      }
    }
    return best;
  }

  findWorkloadsByHostname(hostname: string): Workload[] {
    return [...this.#byHostname.get(hostname)].map((uid) => this.#workloads.get(uid)!);
  }

  workloadsOnNode(node: string): Workload[] {
    return [...this.#byNode.get(node)].map((uid) => this.#workloads.get(uid)!);
  }

  /** The workload a proxy serves, by (namespace, name, serviceAccount), on `node` when given. */
  findLocalWorkload(query: {
    node?: string;
    namespace: string;
    name: string;
    serviceAccount: string;
  }): Workload | undefined {
    const candidates = query.node === undefined ? this.#workloads.values() : this.workloadsOnNode(query.node);
    for (const workload of candidates) {
      if (
        workload.namespace === query.namespace &&
        workload.name === query.name &&
        workload.serviceAccount === query.serviceAccount
      ) {
        return workload;
      }
    }
    return undefined;
  }

  // --- services

  getService(key: string): Service | undefined {
    return this.#services.get(key);
  }

  services(): IterableIterator<Service> {
    return this.#services.values();
  }

  get serviceCount(): number {
    return this.#services.size;
  }

  /**
   * The Service at VIP `network/ip` visible from `sourceNamespace` (NAMESPACE-visibility services only
   * from their own namespace): same namespace first, then `canonical`; else the longest CIDR VIP.
   */
  findServiceByVip(network: string, ip: string, sourceNamespace?: string): Service | undefined {
    const text = canonicalIp(ip) ?? ip;
    const exact = this.#pickService(this.#servicesByVip.get(networkAddressKey(network, text)), sourceNamespace);
    if (exact) return exact;
    const address = parseIp(text);
    if (!address || this.#cidrs.length === 0) return undefined;
    let best: Service | undefined;
    let bestLength = -1;
    for (const cidr of this.#cidrs) {
      const length = cidr.range.prefixLength;
      if (cidr.network !== network || length <= bestLength || !cidrContains(cidr.range, address)) continue;
      const service = this.#pickService(new Set([cidr.key]), sourceNamespace);
      if (service) {
        best = service;
        bestLength = length;
      }
    }
    return best;
  }

  findServicesByHostname(hostname: string): Service[] {
    return [...this.#servicesByHostname.get(hostname)].map((key) => this.#services.get(key)!);
  }

  /** ztunnel's "best" service for a hostname: `preferNamespace` first, then `canonical`, then any. */
  findBestServiceByHostname(hostname: string, preferNamespace?: string): Service | undefined {
    return this.#pickService(this.#servicesByHostname.get(hostname), undefined, preferNamespace);
  }

  /** Endpoints of a service; unhealthy ones only when its health policy is ALLOW_ALL. */
  endpoints(key: string): Endpoint[] {
    const service = this.#services.get(key);
    const allowAll = service?.loadBalancer?.healthPolicy === 'AllowAll';
    const out: Endpoint[] = [];
    for (const uid of this.#endpoints.get(key)) {
      const workload = this.#workloads.get(uid)!;
      if (workload.status !== 'Healthy' && !allowAll) continue;
      const entry = workload.services.find((s) => s.service === key);
      out.push({ workloadUid: uid, ports: entry?.ports ?? new Map(), status: workload.status });
    }
    return out;
  }

  /** The services (known to the store) a workload is an endpoint of. */
  servicesOfWorkload(workload: Workload): Service[] {
    const out: Service[] = [];
    for (const entry of workload.services) {
      const service = this.#services.get(entry.service);
      if (service) out.push(service);
    }
    return out;
  }

  /** Workload at `network/ip` first, else a Service VIP visible from `sourceNamespace`. */
  lookupDestination(network: string, ip: string, sourceNamespace?: string): AddressLookup | undefined {
    const workload = this.findWorkloadByAddress(network, ip);
    if (workload) return { kind: 'workload', workload };
    const service = this.findServiceByVip(network, ip, sourceNamespace);
    return service ? { kind: 'service', service } : undefined;
  }

  // --- policies

  getPolicy(key: string): AuthorizationPolicy | undefined {
    return this.#policies.get(key);
  }

  policies(): IterableIterator<AuthorizationPolicy> {
    return this.#policies.values();
  }

  get policyCount(): number {
    return this.#policies.size;
  }

  /**
   * Policies that apply to `workload` (facts §6.2): NAMESPACE scope in its namespace, every GLOBAL
   * one, and the keys in workload.authorizationPolicies (keys not received yet are skipped).
   */
  policiesFor(workload: Pick<Workload, 'namespace' | 'authorizationPolicies'>): AuthorizationPolicy[] {
    const keys = new Set<string>(this.#policiesByNamespace.get(workload.namespace));
    for (const key of this.#globalPolicies) keys.add(key);
    for (const key of workload.authorizationPolicies) if (this.#policies.has(key)) keys.add(key);
    return [...keys].map((key) => this.#policies.get(key)!);
  }

  /** A config-dump style view of everything held (JSON-serialisable). */
  snapshot(): StoreSnapshot {
    return buildSnapshot(this.#workloads.values(), this.#services.values(), this.#policies.values(), (key) =>
      this.endpoints(key),
    );
  }

  // --- internals

  #pickService(keys: ReadonlySet<string>, sourceNamespace?: string, preferNamespace?: string): Service | undefined {
    let best: Service | undefined;
    let bestScore = -1;
    const prefer = preferNamespace ?? sourceNamespace;
    for (const key of keys) {
      const service = this.#services.get(key)!;
      if (sourceNamespace !== undefined && service.visibility === 'Namespace' && service.namespace !== sourceNamespace)
        continue;
      const score = (prefer !== undefined && service.namespace === prefer ? 2 : 0) + (service.canonical ? 1 : 0);
      if (score > bestScore) {
        best = service;
        bestScore = score;
      }
    }
    return best;
  }

  #addWorkload(workload: Workload): void {
    this.#workloads.set(workload.uid, workload);
    if (workload.networkMode !== 'HostNetwork') {
      for (const ip of workload.workloadIps) this.#byAddress.add(networkAddressKey(workload.network, ip), workload.uid);
    }
    if (workload.hostname) this.#byHostname.add(workload.hostname, workload.uid);
    this.#byNode.add(workload.node, workload.uid);
    for (const entry of workload.services) this.#endpoints.add(entry.service, workload.uid);
  }

  #removeWorkload(uid: string): Workload | undefined {
    const workload = this.#workloads.get(uid);
    if (!workload) return undefined;
    this.#workloads.delete(uid);
    for (const ip of workload.workloadIps) this.#byAddress.delete(networkAddressKey(workload.network, ip), uid);
    if (workload.hostname) this.#byHostname.delete(workload.hostname, uid);
    this.#byNode.delete(workload.node, uid);
    for (const entry of workload.services) this.#endpoints.delete(entry.service, uid);
    return workload;
  }

  #addService(service: Service): void {
    const key = serviceKey(service);
    this.#services.set(key, service);
    for (const vip of service.vips) this.#servicesByVip.add(networkAddressKey(vip.network, vip.address), key);
    for (const cidr of service.cidrVips) {
      const address = parseIp(canonicalIp(cidr.address) ?? '');
      if (address)
        this.#cidrs.push({ network: cidr.network, range: { ...address, prefixLength: cidr.prefixLength }, key });
    }
    this.#servicesByHostname.add(service.hostname, key);
  }

  #removeService(key: string): Service | undefined {
    const service = this.#services.get(key);
    if (!service) return undefined;
    this.#services.delete(key);
    for (const vip of service.vips) this.#servicesByVip.delete(networkAddressKey(vip.network, vip.address), key);
    if (service.cidrVips.length > 0) this.#cidrs = this.#cidrs.filter((cidr) => cidr.key !== key);
    this.#servicesByHostname.delete(service.hostname, key);
    return service;
  }

  #addPolicy(policy: AuthorizationPolicy): void {
    const key = policy.key;
    this.#policies.set(key, policy);
    const scope = scopeOf(policy);
    if (scope === 'GLOBAL') this.#globalPolicies.add(key);
    else if (scope === 'NAMESPACE') this.#policiesByNamespace.add(policy.namespace, key);
  }

  #removePolicy(key: string): AuthorizationPolicy | undefined {
    const policy = this.#policies.get(key);
    if (!policy) return undefined;
    this.#policies.delete(key);
    this.#globalPolicies.delete(key);
    this.#policiesByNamespace.delete(policy.namespace, key);
    return policy;
  }
}

/** How a stored policy selects workloads beyond the keys each workload lists (facts §6.2). */
function scopeOf(policy: AuthorizationPolicy): 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR' {
  switch (policy.attachment.kind) {
    case 'xds':
      return policy.attachment.scope;
    case 'namespace':
      return 'NAMESPACE';
    default:
      return 'WORKLOAD_SELECTOR';
  }
}
