// Waypoints: the Deployment + Service istiod creates for a waypoint Gateway, and the binding rules that
// decide which waypoint (if any) a Service or pod uses (l7-facts §1.2; istiod ambient/waypoints.go).
import type { workload } from '@ambient-ts/istio-api';
import type { ParsedIp } from './ip-allocator.ts';
import {
  LABEL,
  MESH_CONTROLLER,
  WAYPOINT_CLASS,
  type Meta,
  type NamespaceRec,
  type PodRec,
  type ResolvedOptions,
  type ServiceRec,
  type WaypointRec,
} from './model.ts';
import type { WaypointDecl } from './parse-gateway.ts';
import { preferClose } from './parse-core.ts';
import type { ProblemLog } from './problems.ts';

export const WAYPOINT_HBONE_PORT = 15008;

export interface SynthesizedWaypoint {
  readonly waypoint: WaypointRec;
  readonly service: ServiceRec;
  /** The waypoint pod; absent when the input declares its own pods (or no address is known). */
  readonly pod?: PodRec;
}

/** What istiod's waypoint template creates, with the addresses the caller settled on. */
export function synthesizeWaypoint(
  decl: WaypointDecl,
  options: ResolvedOptions,
  addresses: { vip?: ParsedIp; podIp?: ParsedIp; node?: string },
  declaredPods: number,
): SynthesizedWaypoint {
  const { meta } = decl;
  const hostname = `${meta.name}.${meta.namespace}.svc.${options.domainSuffix}`;
  const infra = { [LABEL.gatewayName]: meta.name, [LABEL.gatewayClassName]: WAYPOINT_CLASS };
  const service: ServiceRec = {
    meta: {
      name: meta.name,
      namespace: meta.namespace,
      labels: { ...infra, [LABEL.gatewayManaged]: MESH_CONTROLLER },
      annotations: {},
      ref: meta.ref,
    },
    hostname,
    vips: addresses.vip === undefined ? [] : [addresses.vip],
    ports: [{ name: 'status-port', port: 15021 }, ...decl.listenerPorts].map((p, index) => ({
      index,
      name: p.name,
      port: p.port,
      targetPort: p.port,
    })),
    selector: { [LABEL.gatewayName]: meta.name },
    loadBalancing: preferClose(),
    synthetic: true,
  };
  const pod: PodRec | undefined =
    declaredPods > 0 || addresses.podIp === undefined
      ? undefined
      : {
          meta: {
            name: meta.name,
            namespace: meta.namespace,
            labels: {
              'sidecar.istio.io/inject': 'false',
              [LABEL.dataplaneMode]: 'none',
              [LABEL.canonicalName]: meta.name,
              [LABEL.canonicalRevision]: 'latest',
              ...infra,
              [LABEL.gatewayManaged]: MESH_CONTROLLER,
              // it terminates HBONE itself: istiod marks such pods HBONE + native tunnel
              [LABEL.tunnel]: 'http',
            },
            annotations: {},
            ref: meta.ref,
          },
          ips: [addresses.podIp],
          ...(addresses.node === undefined ? {} : { node: addresses.node }),
          serviceAccount: decl.serviceAccount,
          portNames: new Map([
            ['metrics', 15020],
            ['status-port', 15021],
            ['http-envoy-prom', 15090],
          ]),
          ready: true,
          hostNetwork: false,
          workloadName: meta.name,
          synthetic: true,
        };
  const waypoint: WaypointRec = {
    meta,
    raw: decl.raw,
    trafficType: decl.trafficType,
    serviceAccount: decl.serviceAccount,
    hostname,
    ready: pod !== undefined || declaredPods > 0,
    allowedRoutes: decl.allowedRoutes,
    ...(decl.binding === undefined ? {} : { binding: decl.binding }),
  };
  return { waypoint, service, ...(pod === undefined ? {} : { pod }) };
}

/** The GatewayAddress istiod sends: the waypoint Service by hostname, HBONE on 15008. */
export function gatewayAddressJson(waypoint: WaypointRec): workload.GatewayAddress {
  return {
    hostname: { namespace: waypoint.meta.namespace, hostname: waypoint.hostname },
    hboneMtlsPort: WAYPOINT_HBONE_PORT,
  };
}

export interface WaypointContext {
  readonly waypoints: ReadonlyMap<string, WaypointRec>;
  readonly namespaces: ReadonlyMap<string, NamespaceRec>;
  readonly log: ProblemLog;
}

function matchesLabels(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function allowsNamespace(waypoint: WaypointRec, namespace: string, ctx: WaypointContext): boolean {
  const { from, selector } = waypoint.allowedRoutes;
  if (from === 'All') return true;
  if (from === 'Same') return waypoint.meta.namespace === namespace;
  return matchesLabels(selector ?? {}, ctx.namespaces.get(namespace)?.labels ?? {});
}

interface UseLabel {
  readonly key: string;
  readonly path: readonly string[];
}

/** `istio.io/use-waypoint` (+ `-namespace`) of labels; `none` opts out. */
function useLabel(labels: Readonly<Record<string, string>>, fallbackNamespace: string): UseLabel | 'none' | undefined {
  const name = labels[LABEL.useWaypoint];
  if (name === undefined) return undefined;
  if (name === 'none') return 'none';
  const namespace = labels[LABEL.useWaypointNamespace] ?? fallbackNamespace;
  return { key: `${namespace}/${name}`, path: ['metadata', 'labels', LABEL.useWaypoint] };
}

/**
 * The waypoint a Service (`service`) or pod (`workload`) uses: its own label first (`none` opts out), else
 * its namespace's. Bindings that cannot apply are reported, except a namespace default that does not fit
 * the waypoint's traffic type, which istiod silently ignores.
 */
export function resolveWaypoint(
  target: 'service' | 'workload',
  meta: Meta,
  ctx: WaypointContext,
): WaypointRec | undefined {
  const own = useLabel(meta.labels, meta.namespace);
  if (own === 'none') return undefined;
  const ns = ctx.namespaces.get(meta.namespace);
  const inherited = own === undefined && ns !== undefined ? useLabel(ns.labels, meta.namespace) : undefined;
  const use = own ?? (inherited === 'none' ? undefined : inherited);
  if (use === undefined) return undefined;
  const reportOn = own !== undefined ? meta.ref : ns!.ref;
  const waypoint = ctx.waypoints.get(use.key);
  if (waypoint === undefined || !waypoint.ready) {
    const why =
      waypoint === undefined
        ? 'there is no istio-waypoint Gateway of that name'
        : 'it has no pod address, so istiod treats it as not ready';
    ctx.log.warn(reportOn, use.path, `waypoint ${use.key} cannot be used: ${why}`);
    return undefined;
  }
  if (!allowsNamespace(waypoint, meta.namespace, ctx)) {
    ctx.log.warn(
      reportOn,
      use.path,
      `waypoint ${use.key} does not accept namespace ${meta.namespace} (its HBONE listener's allowedRoutes)`,
    );
    return undefined;
  }
  const fits = waypoint.trafficType === target || waypoint.trafficType === 'all';
  if (!fits) {
    if (own !== undefined) {
      ctx.log.warn(
        meta.ref,
        use.path,
        `waypoint ${use.key} is for ${waypoint.trafficType} traffic (istio.io/waypoint-for), so this ${target === 'service' ? 'Service' : 'pod'} does not use it`,
      );
    }
    return undefined;
  }
  return waypoint;
}
