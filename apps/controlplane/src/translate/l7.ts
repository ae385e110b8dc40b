// What only waypoints need: targetRefs AuthorizationPolicies and RequestAuthentications, HTTPRoutes and
// the waypoint Gateways, kept as plain objects; attachment is checked the way istiod reports it
// (l7-facts §2.1, §3.1, §4.1).
import { parseHttpRoute } from '@ambient-ts/routes';
import { FieldReader, isRecord, type JsonRecord } from './fields.ts';
import type { Meta, ResolvedOptions, ServiceRec, WaypointRec } from './model.ts';
import { readMeta } from './parse-core.ts';
import { requestAuthenticationProblems } from './policy-adapter.ts';
import { ProblemLog } from './problems.ts';

export const L7_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';

export interface L7Context {
  readonly options: ResolvedOptions;
  readonly waypoints: ReadonlyMap<string, WaypointRec>;
  /** `namespace/name` → Service (input and waypoint Services). */
  readonly services: ReadonlyMap<string, ServiceRec>;
  /** `namespace/name` of Services bound to a waypoint, → that waypoint. */
  readonly serviceWaypoints: ReadonlyMap<string, WaypointRec>;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const MAX_TARGET_REFS = 16;

/** The object as a waypoint reads it: kind, metadata that matters, spec. */
export function l7Object(kind: string, meta: Meta, raw: JsonRecord, extra: JsonRecord = {}): JsonRecord {
  const metadata: JsonRecord = { name: meta.name, namespace: meta.namespace };
  if (Object.keys(meta.labels).length > 0) metadata['labels'] = { ...meta.labels };
  if (Object.keys(meta.annotations).length > 0) metadata['annotations'] = { ...meta.annotations };
  const out: JsonRecord = { kind, metadata, spec: isRecord(raw['spec']) ? raw['spec'] : {} };
  if (typeof raw['apiVersion'] === 'string') out['apiVersion'] = raw['apiVersion'];
  return { ...out, ...extra };
}

export function l7Name(kind: string, meta: Meta): string {
  return `${kind}/${meta.namespace}/${meta.name}`;
}

/** `targetRefs` (or the legacy singular `targetRef`) as a list, or undefined when neither is set. */
export function readTargetRefs(r: FieldReader): { path: (string | number)[]; ref: JsonRecord }[] | undefined {
  const plural = r.get(['spec', 'targetRefs']);
  const singular = r.get(['spec', 'targetRef']);
  if ((plural === undefined || plural === null) && (singular === undefined || singular === null)) return undefined;
  const refs: { path: (string | number)[]; ref: JsonRecord }[] = [];
  r.list(['spec', 'targetRefs']).forEach((ref, i) => {
    if (isRecord(ref)) refs.push({ path: ['spec', 'targetRefs', i], ref });
    else r.error(['spec', 'targetRefs', i], 'must be a mapping with group, kind and name');
  });
  const one = r.record(['spec', 'targetRef']);
  if (one !== undefined) refs.push({ path: ['spec', 'targetRef'], ref: one });
  if (refs.length > MAX_TARGET_REFS)
    r.error(['spec', 'targetRefs'], `at most ${MAX_TARGET_REFS} targetRefs are allowed`);
  return refs;
}

/**
 * Check each targetRef binds to something a waypoint serves; unbound ones are warnings, as in istiod's
 * status. With `validate` false, malformed refs are left to the caller's validator (no double report).
 */
export function checkTargetRefs(
  r: FieldReader,
  meta: Meta,
  refs: { path: (string | number)[]; ref: JsonRecord }[],
  ctx: L7Context,
  validate = true,
): void {
  const invalid = (path: (string | number)[], message: string): void => {
    if (validate) r.error(path, message);
  };
  for (const { path, ref } of refs) {
    const group = typeof ref['group'] === 'string' ? ref['group'] : '';
    const kind = ref['kind'];
    const name = ref['name'];
    if (typeof kind !== 'string' || typeof name !== 'string' || name === '') {
      invalid(path, 'needs kind and name');
      continue;
    }
    const namespace = typeof ref['namespace'] === 'string' ? ref['namespace'] : meta.namespace;
    if (namespace !== meta.namespace) {
      invalid([...path, 'namespace'], 'a targetRef must be in the policy namespace');
      continue;
    }
    const key = `${namespace}/${name}`;
    if (kind === 'Gateway' && group === GATEWAY_GROUP) {
      if (!ctx.waypoints.has(key)) r.warn(path, `not bound: there is no istio-waypoint Gateway ${key}`);
    } else if (kind === 'GatewayClass' && group === GATEWAY_GROUP) {
      if (meta.namespace !== ctx.options.rootNamespace) {
        r.warn(
          path,
          `not bound: a policy targeting a GatewayClass must be in the root namespace ${ctx.options.rootNamespace}`,
        );
      } else if (name !== 'istio-waypoint') {
        r.warn(path, `not bound: GatewayClass ${name} is not istio-waypoint`);
      }
    } else if (kind === 'Service' && (group === '' || group === 'core')) {
      if (!ctx.services.has(key)) r.warn(path, `not bound: Service ${key} was not found`);
      else if (!ctx.serviceWaypoints.has(key))
        r.warn(path, `not bound: Service ${key} is not bound to a waypoint (istio.io/use-waypoint)`);
    } else if (kind === 'ServiceEntry' && group === 'networking.istio.io') {
      r.warn(path, 'not bound: ServiceEntry targets are not supported by this control plane');
    } else {
      invalid(
        path,
        `unsupported target ${group === '' ? '' : `${group}/`}${kind} (use a waypoint Gateway, the istio-waypoint GatewayClass, or a Service)`,
      );
    }
  }
}

/**
 * RequestAuthentication: validated by the policy package's loader (what the waypoint will run); only
 * targetRefs ones reach waypoints.
 */
export function checkRequestAuthentication(
  r: FieldReader,
  raw: JsonRecord,
  ctx: L7Context,
): { meta: Meta; targeted: boolean } | undefined {
  const quiet = new FieldReader(raw, r.ref, new ProblemLog());
  const meta = readMeta(quiet, true);
  const refs = readTargetRefs(quiet);
  for (const problem of requestAuthenticationProblems(raw)) {
    if (problem.severity === 'error') r.error(problem.path, problem.message);
    else r.warn(problem.path, problem.message);
  }
  if (meta === undefined) return undefined;
  if (refs === undefined) {
    r.warn(
      ['spec'],
      'has no targetRefs: in ambient only waypoints enforce JWT rules, and they take only targetRefs policies; it is not applied',
    );
    return undefined;
  }
  checkTargetRefs(r, meta, refs, ctx, false);
  // forwarded even with errors: the waypoint's loader applies the same fail-safe rules
  return { meta, targeted: true };
}

/**
 * HTTPRoute: validated by @ambient-ts/routes' parser (what the waypoint will run: an object it would
 * reject is rejected here, with the same field and message); then attachment as istiod reports it:
 * parents must be waypoint-bound Services (GAMMA) or waypoints, backends should exist.
 */
export function checkHttpRoute(r: FieldReader, ctx: L7Context): Meta | undefined {
  const meta = readMeta(r, true);
  if (meta === undefined) return undefined;
  const parsed = parseHttpRoute(r.get([]), { name: meta.name, namespace: meta.namespace });
  for (const problem of parsed.problems) {
    // metadata is this control plane's to check (readMeta above, with Kubernetes' name rules)
    if (problem.path[0] === 'metadata') continue;
    if (problem.severity === 'error') r.error(problem.path, problem.message);
    else r.warn(problem.path, problem.message);
  }
  const route = parsed.route;
  if (route === undefined) return undefined;
  route.parentRefs.forEach((parent, i) => {
    const path = ['spec', 'parentRefs', i];
    const key = `${parent.namespace}/${parent.name}`;
    if (parent.kind === 'Service') {
      const service = ctx.services.get(key);
      if (service === undefined) r.warn(path, `Service ${key} was not found`);
      else if (!ctx.serviceWaypoints.has(key))
        r.warn(path, `Service ${key} has no waypoint, so no waypoint applies this route`);
      else if (parent.namespace !== meta.namespace)
        r.warn(path, 'consumer routes (in another namespace than the Service) are not supported by Istio ambient');
      if (service !== undefined && parent.port !== undefined && !service.ports.some((p) => p.port === parent.port)) {
        r.warn([...path, 'port'], `Service ${key} has no port ${parent.port}`);
      }
    } else if (parent.kind === 'Gateway') {
      if (!ctx.waypoints.has(key)) r.warn(path, `there is no istio-waypoint Gateway ${key}`);
    } else {
      r.error([...path, 'kind'], `unsupported parent kind ${JSON.stringify(parent.kind)} (use Service or Gateway)`);
    }
  });
  for (const rule of route.rules) {
    rule.backendRefs.forEach((backend, j) => {
      if (backend.kind !== 'Service') return;
      const key = `${backend.namespace}/${backend.name}`;
      if (!ctx.services.has(key))
        r.warn(
          ['spec', 'rules', rule.index, 'backendRefs', j],
          `backend Service ${key} was not found (requests to it get 500)`,
        );
    });
  }
  return r.errors > 0 ? undefined : meta;
}
