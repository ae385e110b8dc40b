// Settle each waypoint's addresses (from the Gateway, else allocated from the options' ranges) and
// create the pod and Service istiod's waypoint template would have created.
import { ControlPlaneError } from '../errors.ts';
import type { Collected } from './collect.ts';
import { parseCidr } from '@ambient-ts/addresses';
import { IpAllocator } from './ip-allocator.ts';
import { ANNOTATION, LABEL, type PodRec, type ResolvedOptions, type ServiceRec, type WaypointRec } from './model.ts';
import type { ProblemLog } from './problems.ts';
import { synthesizeWaypoint } from './waypoints.ts';

export interface AllocatedWaypoints {
  /** `namespace/name` → waypoint. */
  readonly waypoints: Map<string, WaypointRec>;
  readonly extraPods: PodRec[];
  readonly extraServices: ServiceRec[];
}

function allocator(range: string | undefined, option: string, used: Set<string>): IpAllocator | undefined {
  if (range === undefined) return undefined;
  const cidr = parseCidr(range);
  if (cidr === undefined) {
    throw new ControlPlaneError(
      'INVALID_OPTIONS',
      `options.waypoints.${option} ${JSON.stringify(range)} is not a CIDR like 127.10.255.0/24`,
    );
  }
  return new IpAllocator(cidr, used);
}

export function allocateWaypoints(c: Collected, options: ResolvedOptions, log: ProblemLog): AllocatedWaypoints {
  const used = new Set<string>();
  for (const pod of c.pods) for (const ip of pod.ips) used.add(ip.text);
  for (const service of c.services) for (const ip of service.vips) used.add(ip.text);
  for (const gateway of c.gateways) {
    if (gateway.vip !== undefined) used.add(gateway.vip.text);
    if (gateway.podIp !== undefined) used.add(gateway.podIp.text);
  }
  const vips = allocator(options.waypoints.vipRange, 'vipRange', used);
  const podIps = allocator(options.waypoints.podIpRange, 'podIpRange', used);

  const out: AllocatedWaypoints = { waypoints: new Map(), extraPods: [], extraServices: [] };
  const sorted = [...c.gateways].sort((a, b) =>
    `${a.meta.namespace}/${a.meta.name}`.localeCompare(`${b.meta.namespace}/${b.meta.name}`),
  );
  for (const decl of sorted) {
    const { meta } = decl;
    const same = (m: { namespace: string; name: string }): boolean =>
      m.namespace === meta.namespace && m.name === meta.name;
    if (c.services.some((s) => same(s.meta))) {
      log.error(
        meta.ref,
        ['metadata', 'name'],
        `Service ${meta.namespace}/${meta.name} already exists; the waypoint's Service takes the Gateway's name`,
      );
      continue;
    }
    const declaredPods = c.pods.filter(
      (p) => p.meta.namespace === meta.namespace && p.meta.labels[LABEL.gatewayName] === meta.name,
    ).length;
    if (declaredPods === 0 && c.pods.some((p) => same(p.meta))) {
      log.error(
        meta.ref,
        ['metadata', 'name'],
        `Pod ${meta.namespace}/${meta.name} already exists; the waypoint's pod takes the Gateway's name`,
      );
      continue;
    }
    const vip = decl.vip ?? vips?.take();
    if (vip === undefined) {
      log.warn(
        meta.ref,
        ['spec', 'addresses'],
        'no VIP (spec.addresses[0].value, or options.waypoints.vipRange): the waypoint Service is headless',
      );
    }
    const podIp = declaredPods > 0 ? undefined : (decl.podIp ?? podIps?.take());
    const node = decl.node ?? options.waypoints.node;
    if (declaredPods === 0 && podIp === undefined) {
      log.warn(
        meta.ref,
        ['metadata', 'annotations'],
        `no pod address (annotation ${ANNOTATION.podIp}, or options.waypoints.podIpRange): istiod treats the waypoint as not ready and nothing uses it`,
      );
    } else if (declaredPods === 0 && node === undefined) {
      log.warn(
        meta.ref,
        ['metadata', 'annotations'],
        `no node (annotation ${ANNOTATION.node}, or options.waypoints.node): no ztunnel serves the waypoint pod and the CA will not issue its identity`,
      );
    }
    const made = synthesizeWaypoint(
      decl,
      options,
      {
        ...(vip === undefined ? {} : { vip }),
        ...(podIp === undefined ? {} : { podIp }),
        ...(node === undefined ? {} : { node }),
      },
      declaredPods,
    );
    out.waypoints.set(`${meta.namespace}/${meta.name}`, made.waypoint);
    out.extraServices.push(made.service);
    if (made.pod !== undefined) out.extraPods.push(made.pod);
  }
  return out;
}
