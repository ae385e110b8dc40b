// Kubernetes-style objects in, exactly what istiod would serve to ztunnels (Address, Authorization) and
// waypoints (L7 objects) out, plus the CA's node placement and every problem found. Pure: same input,
// same output; a broken object is rejected alone and the rest still translates.
import type { SourcedObject } from '../load/yaml-source.ts';
import { toAuthorization, type L4Converter } from './policy-adapter.ts';
import { collect, type Collected, type SkippedObject } from './collect.ts';
import type { security, workload } from '@ambient-ts/istio-api';
import type { JsonRecord } from './fields.ts';
import { checkHttpRoute, checkRequestAuthentication, l7Name, l7Object, type L7Context } from './l7.ts';
import {
  resolveOptions,
  type PodRec,
  type ResolvedOptions,
  type SelectorPolicyRec,
  type ServiceRec,
  type TranslateOptions,
  type WaypointRec,
} from './model.ts';
import { buildPlacement, type Placement } from './placement.ts';
import { handleAuthorizationPolicy } from './policies.ts';
import { ProblemLog, sortProblems, type Problem } from './problems.ts';
import { buildService, serviceResourceName } from './services.ts';
import { allocateWaypoints } from './allocate.ts';
import { resolveWaypoint } from './waypoints.ts';
import { invert, PodIndex } from './selection.ts';
import { buildWorkload, podUid } from './workloads.ts';

/** An `istio.workload.Address` resource in proto3 JSON (the types @ambient-ts/istio-api generates). */
export type AddressJson = { workload: workload.Workload } | { service: workload.Service };

export interface Resource<T> {
  readonly name: string;
  readonly resource: T;
}

export interface Translation {
  /** `istio.workload.Address` resources: Workloads named by uid, Services by `namespace/hostname`. */
  readonly addresses: readonly Resource<AddressJson>[];
  /** `istio.security.Authorization` resources named `namespace/name`. */
  readonly authorizations: readonly Resource<security.Authorization>[];
  /** Objects only waypoints need, named `Kind/namespace/name`, served as google.protobuf.Struct. */
  readonly l7: readonly Resource<JsonRecord>[];
  readonly placement: Placement;
  /** Sorted by file and line. */
  readonly problems: readonly Problem[];
  /** Objects of kinds this control plane does not translate. */
  readonly skipped: readonly SkippedObject[];
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Second IP owner loses: a pod IP used twice, or a VIP that is also a pod IP or another Service's VIP. */
function rejectAddressClashes(c: Collected, log: ProblemLog): { pods: PodRec[]; services: ServiceRec[] } {
  const owners = new Map<string, string>();
  const pods = c.pods.filter((pod) => {
    if (pod.hostNetwork) return true;
    const clash = pod.ips.find((ip) => owners.has(ip.text));
    if (clash !== undefined) {
      log.error(
        pod.meta.ref,
        ['status', 'podIP'],
        `IP ${clash.text} is already used by ${owners.get(clash.text)}; this pod is ignored`,
      );
      return false;
    }
    for (const ip of pod.ips) owners.set(ip.text, `Pod ${pod.meta.namespace}/${pod.meta.name}`);
    return true;
  });
  const services = c.services.filter((service) => {
    const clash = service.vips.find((ip) => owners.has(ip.text));
    if (clash !== undefined) {
      log.error(
        service.meta.ref,
        ['spec', 'clusterIP'],
        `IP ${clash.text} is already used by ${owners.get(clash.text)}; this Service is ignored`,
      );
      return false;
    }
    for (const ip of service.vips) owners.set(ip.text, `Service ${service.meta.namespace}/${service.meta.name}`);
    return true;
  });
  return { pods, services };
}

/** Objects in a namespace nobody declared get no namespace labels: say so once per namespace. */
function warnUndeclaredNamespaces(
  c: Collected,
  pods: readonly PodRec[],
  services: readonly ServiceRec[],
  log: ProblemLog,
): void {
  const warned = new Set<string>(['default']);
  for (const { meta } of [...pods, ...services]) {
    if (c.namespaces.has(meta.namespace) || warned.has(meta.namespace)) continue;
    warned.add(meta.namespace);
    log.warn(
      meta.ref,
      ['metadata', 'namespace'],
      `namespace ${meta.namespace} is not declared: it has no labels (not ambient, no waypoint)`,
    );
  }
}

/** Who picks whom, once: Services and selector policies → pods, and the warnings for selectors that pick nothing. */
function selections(
  pods: readonly PodRec[],
  services: readonly ServiceRec[],
  policies: readonly SelectorPolicyRec[],
  options: ResolvedOptions,
  log: ProblemLog,
): { servicesOfPod: Map<PodRec, ServiceRec[]>; policiesOfPod: Map<PodRec, SelectorPolicyRec[]> } {
  const index = new PodIndex(pods);
  const byService: [ServiceRec, PodRec[]][] = [];
  for (const service of services) {
    const selector = service.selector;
    // an empty or missing selector selects nothing (istiod: FilterSelectsNonEmpty)
    if (selector === undefined || Object.keys(selector).length === 0) continue;
    const picked = index.select([service.meta.namespace], selector);
    if (picked.length === 0 && !service.synthetic) {
      log.warn(service.meta.ref, ['spec', 'selector'], 'selects no pod: the Service has no endpoints');
    }
    byService.push([service, picked]);
  }
  const byPolicy: [SelectorPolicyRec, PodRec[]][] = [];
  for (const policy of policies) {
    const scope = policy.namespace === options.rootNamespace ? [...index.namespaces()] : [policy.namespace];
    const picked = index.select(scope, policy.matchLabels);
    if (picked.length === 0) {
      log.warn(policy.ref, ['spec', 'selector', 'matchLabels'], 'selects no pod: the policy applies to nothing');
    }
    byPolicy.push([policy, picked]);
  }
  return { servicesOfPod: invert(byService), policiesOfPod: invert(byPolicy) };
}

export function translate(
  objects: readonly SourcedObject[],
  options: TranslateOptions = {},
  convert: L4Converter = toAuthorization,
): Translation {
  const opts = resolveOptions(options);
  const log = new ProblemLog();
  const c = collect(objects, opts, log);
  const { waypoints, extraPods, extraServices } = allocateWaypoints(c, opts, log);
  const { pods, services } = rejectAddressClashes(
    { ...c, pods: [...c.pods, ...extraPods], services: [...c.services, ...extraServices] },
    log,
  );
  warnUndeclaredNamespaces(c, pods, services, log);

  const waypointCtx = { waypoints, namespaces: c.namespaces, log };
  const serviceWaypoints = new Map<string, WaypointRec>();
  const servicesByKey = new Map<string, ServiceRec>();
  for (const service of services) {
    const key = `${service.meta.namespace}/${service.meta.name}`;
    servicesByKey.set(key, service);
    const waypoint = service.synthetic ? undefined : resolveWaypoint('service', service.meta, waypointCtx);
    if (waypoint !== undefined) serviceWaypoints.set(key, waypoint);
  }

  const l7Ctx: L7Context = { options: opts, waypoints, services: servicesByKey, serviceWaypoints };
  const authorizations: Resource<security.Authorization>[] = [];
  const selectorPolicies: SelectorPolicyRec[] = [];
  const l7: Resource<JsonRecord>[] = [];
  for (const d of c.deferred) {
    if (d.kind === 'AuthorizationPolicy') {
      const outcome = handleAuthorizationPolicy(d, l7Ctx, convert);
      if (outcome.authorization !== undefined) authorizations.push(outcome.authorization);
      if (outcome.selector !== undefined) selectorPolicies.push(outcome.selector);
      if (outcome.l7 !== undefined) l7.push(outcome.l7);
    } else if (d.kind === 'RequestAuthentication') {
      const checked = checkRequestAuthentication(d.reader, d.raw, l7Ctx);
      if (checked?.targeted === true)
        l7.push({ name: l7Name(d.kind, checked.meta), resource: l7Object(d.kind, checked.meta, d.raw) });
    } else {
      const meta = checkHttpRoute(d.reader, l7Ctx);
      if (meta !== undefined) l7.push({ name: l7Name(d.kind, meta), resource: l7Object(d.kind, meta, d.raw) });
    }
  }
  for (const waypoint of waypoints.values()) {
    const service = servicesByKey.get(`${waypoint.meta.namespace}/${waypoint.meta.name}`);
    const status = {
      addresses: [
        { type: 'Hostname', value: waypoint.hostname },
        ...(service?.vips ?? []).map((ip) => ({ type: 'IPAddress', value: ip.text })),
      ],
    };
    l7.push({
      name: l7Name('Gateway', waypoint.meta),
      resource: l7Object('Gateway', waypoint.meta, waypoint.raw, { status }),
    });
  }

  const missingPorts = new Map<string, { service: ServiceRec; index: number; pods: string[] }>();
  const workloadCtx = {
    ...waypointCtx,
    ...selections(pods, services, selectorPolicies, opts, log),
    options: opts,
    nodes: c.nodes,
    onNamedPortMissing: (service: ServiceRec, index: number, pod: PodRec) => {
      const key = `${serviceResourceName(service)}#${index}`;
      const entry = missingPorts.get(key) ?? { service, index, pods: [] };
      entry.pods.push(`${pod.meta.namespace}/${pod.meta.name}`);
      missingPorts.set(key, entry);
    },
  };
  const addresses: Resource<AddressJson>[] = [];
  for (const pod of pods)
    addresses.push({ name: podUid(opts.clusterId, pod), resource: { workload: buildWorkload(pod, workloadCtx) } });
  for (const service of services) {
    const waypoint = serviceWaypoints.get(`${service.meta.namespace}/${service.meta.name}`);
    addresses.push({
      name: serviceResourceName(service),
      resource: { service: buildService(service, waypoint, opts) },
    });
  }
  for (const { service, index, pods: missing } of missingPorts.values()) {
    const port = service.ports.find((p) => p.index === index)!;
    log.warn(
      service.meta.ref,
      ['spec', 'ports', index, 'targetPort'],
      `unknown port name ${JSON.stringify(port.targetPortName)}: pod ${missing.join(', ')} has no container port of that name, so it gets no traffic on port ${port.port}`,
    );
  }

  return {
    addresses: addresses.sort(byName),
    authorizations: authorizations.sort(byName),
    l7: l7.sort(byName),
    placement: buildPlacement(pods, c.nodes, opts.trustDomain, waypoints.values()),
    problems: sortProblems(log.list),
    skipped: c.skipped,
  };
}
