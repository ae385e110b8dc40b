// The outbound decision of facts §2.1, in ztunnel's order, as a pure function over the store.
import { formatHostPort, isLoopback, networkAddressKey } from '@ambient-ts/addresses';
import type { DiscoveryStore } from '../store/store.ts';
import type { GatewayAddress, Service, Workload } from '../model.ts';
import { chooseIp, expectedIdentities, serviceSans, weightedPick } from './address.ts';
import { selectEndpoint } from './endpoints.ts';
import { resolveGateway } from './gateway.ts';
import {
  DEFAULT_ILLEGAL_PORTS,
  HBONE_PORT,
  type Dial,
  type OutboundDecision,
  type RouteOptions,
  type SocketTarget,
} from './types.ts';

export interface OutboundRequest {
  /** the workload this proxy serves (undefined when it is not known yet) */
  readonly source: Workload | undefined;
  /** original destination (SO_ORIGINAL_DST) */
  readonly destination: SocketTarget;
}

/** Service waypoint for this connection: weighted pick when weighted_waypoints exist, else `waypoint`. */
export function pickServiceWaypoint(service: Service, random: () => number): GatewayAddress | undefined {
  if (service.weightedWaypoints.length > 0) {
    const picked = weightedPick(service.weightedWaypoints, (w) => w.weight, random);
    if (picked) return picked.destination;
  }
  return service.waypoint;
}

function dialLabel(dial: Dial): string {
  return dial.kind === 'ip' ? formatHostPort(dial.ip, dial.port) : `${dial.hostname}:${dial.port} (dns)`;
}

function doubleHbone(
  store: DiscoveryStore,
  source: Workload,
  upstream: Workload,
  service: Service,
  servicePort: number,
  random: () => number,
  reason: 'cross-network' | 'cross-network-waypoint',
): OutboundDecision {
  if (!upstream.networkGateway) {
    return {
      kind: 'fail',
      reason: 'no-network-gateway',
      service,
      message: `no valid routing destination: ${upstream.uid} is on network "${upstream.network}" without a network gateway`,
    };
  }
  const gateway = resolveGateway(store, upstream.networkGateway, source, random);
  if (!gateway)
    return { kind: 'fail', reason: 'unknown-gateway', service, message: `unknown network gateway for ${upstream.uid}` };
  const authority = formatHostPort(service.hostname, servicePort);
  return {
    kind: 'double-hbone',
    reason,
    gateway: gateway.dial,
    gatewayIdentities: gateway.identities,
    authority,
    innerIdentities: serviceSans(service),
    upstream,
    service,
    message: `double HBONE via gateway ${dialLabel(gateway.dial)} to ${authority}`,
  };
}

/** Where an outbound connection goes (never performs I/O; randomness from options.random). */
export function routeOutbound(
  store: DiscoveryStore,
  request: OutboundRequest,
  options: RouteOptions = {},
): OutboundDecision {
  const random = options.random ?? Math.random;
  const { destination, source } = request;
  const illegal = options.illegalPorts ?? DEFAULT_ILLEGAL_PORTS;
  if (isLoopback(destination.ip) && illegal.includes(destination.port)) {
    return {
      kind: 'drop',
      reason: 'illegal-port',
      message: `attempted recursive call to ourselves on port ${destination.port}`,
    };
  }
  if (!source) return { kind: 'drop', reason: 'unknown-source', message: 'unknown source workload' };
  const network = options.network ?? source.network;
  const found = store.lookupDestination(network, destination.ip, source.namespace);
  if (!found) {
    if (options.onDemand) {
      const name = networkAddressKey(network, destination.ip);
      return { kind: 'lookup', reason: 'on-demand', name, message: `fetch ${name} on demand` };
    }
    return {
      kind: 'passthrough',
      reason: 'unknown-destination',
      target: destination,
      message: 'unknown destination: plain TCP passthrough',
    };
  }

  if (found.kind === 'service') {
    const service = found.service;
    const waypoint = pickServiceWaypoint(service, random);
    if (waypoint) {
      const resolved = resolveGateway(store, waypoint, source, random);
      if (!resolved)
        return {
          kind: 'fail',
          reason: 'unknown-waypoint',
          service,
          message: `unknown waypoint for service ${service.namespace}/${service.hostname}`,
        };
      if (resolved.workload.network !== source.network) {
        return doubleHbone(
          store,
          source,
          resolved.workload,
          service,
          destination.port,
          random,
          'cross-network-waypoint',
        );
      }
      const authority = formatHostPort(destination.ip, destination.port);
      return {
        kind: 'hbone',
        reason: 'service-waypoint',
        target: resolved.dial,
        authority,
        expectedIdentities: resolved.identities,
        upstream: resolved.workload,
        service,
        message: `service waypoint ${dialLabel(resolved.dial)} with authority ${authority}`,
      };
    }
    if (service.loadBalancer?.mode === 'Passthrough') {
      return {
        kind: 'passthrough',
        reason: 'lb-passthrough',
        target: destination,
        service,
        message: 'service load balancing mode PASSTHROUGH',
      };
    }
    const selected = selectEndpoint(store, service, {
      source,
      servicePort: destination.port,
      originalIp: destination.ip,
      random,
    });
    if (!selected) return { kind: 'fail', reason: 'no-healthy-upstream', service, message: 'no healthy upstream' };
    if (selected.workload.network !== source.network) {
      return doubleHbone(store, source, selected.workload, service, destination.port, random, 'cross-network');
    }
    if (!selected.dial) return { kind: 'fail', reason: 'no-healthy-upstream', service, message: 'no healthy upstream' };
    return direct(selected.workload, selected.dial, service);
  }

  const workload = found.workload;
  if (workload.waypoint) {
    const resolved = resolveGateway(store, workload.waypoint, source, random);
    const sourceIsWaypoint =
      resolved !== undefined &&
      resolved.workload.uid === source.uid &&
      resolved.dial.kind === 'ip' &&
      source.workloadIps.includes(resolved.dial.ip);
    if (!resolved)
      return { kind: 'fail', reason: 'unknown-waypoint', message: `unknown waypoint for workload ${workload.uid}` };
    if (!sourceIsWaypoint) {
      const authority = formatHostPort(destination.ip, destination.port);
      return {
        kind: 'hbone',
        reason: 'workload-waypoint',
        target: resolved.dial,
        authority,
        expectedIdentities: resolved.identities,
        upstream: resolved.workload,
        message: `workload waypoint ${dialLabel(resolved.dial)} with authority ${authority}`,
      };
    }
  }
  const ip = chooseIp(workload, destination.ip) ?? destination.ip;
  return direct(workload, { kind: 'ip', ip, port: destination.port });
}

function direct(upstream: Workload, dial: Dial, service?: Service): OutboundDecision {
  if (upstream.protocol === 'HBONE') {
    const host = dial.kind === 'ip' ? dial.ip : dial.hostname;
    const authority = formatHostPort(host, dial.port);
    const target: Dial =
      dial.kind === 'ip'
        ? { kind: 'ip', ip: dial.ip, port: HBONE_PORT }
        : { kind: 'dns', hostname: dial.hostname, port: HBONE_PORT };
    return {
      kind: 'hbone',
      reason: 'direct',
      target,
      authority,
      expectedIdentities: expectedIdentities(upstream, service),
      upstream,
      ...(service ? { service } : {}),
      message: `HBONE to ${dialLabel(target)} with authority ${authority}`,
    };
  }
  return {
    kind: 'tcp',
    reason: 'direct',
    target: dial,
    upstream,
    ...(service ? { service } : {}),
    message: `plain TCP to ${dialLabel(dial)}`,
  };
}
