// Config-dump view of the store: plain JSON, keys as ztunnel's /config_dump names them.
import type { security } from '@ambient-ts/istio-api';
import { toXdsAuthorization, type AuthorizationPolicy } from '@ambient-ts/policy';
import { serviceKey, type Endpoint, type Service, type Workload } from '../model.ts';

/** A stored policy in its proto3 JSON form; `problems` when it is a fail-closed stand-in for a broken one. */
export type PolicySnapshot = security.Authorization & { readonly problems?: readonly string[] };

export interface StoreSnapshot {
  readonly workloads: Record<string, unknown>[];
  readonly services: Record<string, unknown>[];
  readonly policies: PolicySnapshot[];
}

function ports(map: ReadonlyMap<number, number>): Record<string, number> {
  return Object.fromEntries([...map].map(([k, v]) => [String(k), v]));
}

function workloadJson(workload: Workload): Record<string, unknown> {
  const { services, ...rest } = workload;
  return { ...rest, services: Object.fromEntries(services.map((s) => [s.service, ports(s.ports)])) };
}

function serviceJson(service: Service, endpoints: Endpoint[]): Record<string, unknown> {
  return {
    ...service,
    ports: Object.fromEntries(service.ports.map((p) => [String(p.servicePort), p.targetPort])),
    endpoints: Object.fromEntries(
      endpoints.map((e) => [e.workloadUid, { workloadUid: e.workloadUid, port: ports(e.ports), status: e.status }]),
    ),
  };
}

function policyJson(policy: AuthorizationPolicy): PolicySnapshot {
  const wire = toXdsAuthorization(policy, { rootNamespace: '' }) ?? { name: policy.name, namespace: policy.namespace };
  const problems = policy.problems.map((problem) => `${problem.field}: ${problem.message} (${problem.effect})`);
  return problems.length > 0 ? { ...wire, problems } : wire;
}

export function buildSnapshot(
  workloads: Iterable<Workload>,
  services: Iterable<Service>,
  policies: Iterable<AuthorizationPolicy>,
  endpoints: (key: string) => Endpoint[],
): StoreSnapshot {
  const byKey =
    <T>(key: (t: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    workloads: [...workloads].sort(byKey((w: Workload) => w.uid)).map(workloadJson),
    services: [...services].sort(byKey(serviceKey)).map((s) => serviceJson(s, endpoints(serviceKey(s)))),
    policies: [...policies].sort(byKey((p: AuthorizationPolicy) => p.key)).map(policyJson),
  };
}
