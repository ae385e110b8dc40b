// Inbound HBONE checks of facts §1.6: authority parsing, destination validation, port resolution.
import { canonicalIp, parseAuthority, type Authority } from '@ambient-ts/addresses';
import type { DiscoveryStore } from '../store/store.ts';
import { serviceKey, type Workload } from '../model.ts';
import { gatewayIsWorkload } from './gateway.ts';
import { DEFAULT_ILLEGAL_PORTS, type InboundDecision } from './types.ts';

/** The CONNECT authority as @ambient-ts/addresses reads it (the one the HBONE server checked); undefined when malformed. */
function readAuthority(text: string): Authority | undefined {
  try {
    return parseAuthority(text);
  } catch {
    return undefined;
  }
}

export interface InboundRequest {
  /** the workload this proxy serves (undefined when not known after the wait) */
  readonly local: Workload | undefined;
  /** the local IP the TLS connection arrived on */
  readonly connectionIp: string;
  /** CONNECT :authority */
  readonly authority: string;
  readonly illegalPorts?: readonly number[];
}

/** Is the authority IP one this workload may receive for (itself, app tunnel, or it is the target's waypoint)? */
function destinationAllowed(store: DiscoveryStore, local: Workload, connectionIp: string, ip: string): boolean {
  if (ip === (canonicalIp(connectionIp) ?? connectionIp)) return true;
  if (local.applicationTunnel) return true;
  const target = store.lookupDestination(local.network, ip);
  if (!target) return false;
  const gateways =
    target.kind === 'workload'
      ? [target.workload.waypoint]
      : [target.service.waypoint, ...target.service.weightedWaypoints.map((w) => w.destination)];
  return gateways.some((gateway) => gateway !== undefined && gatewayIsWorkload(store, gateway, local));
}

export function routeInbound(store: DiscoveryStore, request: InboundRequest): InboundDecision {
  const authority = readAuthority(request.authority);
  if (!authority)
    return {
      kind: 'reject',
      status: 400,
      reason: 'invalid-authority',
      message: `invalid CONNECT address ${JSON.stringify(request.authority)}`,
    };
  const local = request.local;
  if (!local)
    return { kind: 'reject', status: 503, reason: 'unknown-workload', message: 'destination workload not found' };
  const connectionIp = canonicalIp(request.connectionIp) ?? request.connectionIp;
  let port = authority.port;
  let service;
  if (authority.kind === 'ip') {
    const ip = canonicalIp(authority.address) ?? authority.address;
    if (!destinationAllowed(store, local, connectionIp, ip)) {
      return {
        kind: 'reject',
        status: 400,
        reason: 'ip-mismatch',
        message: `ip mismatch: ${connectionIp} != ${ip}`,
      };
    }
  } else {
    service = store.findBestServiceByHostname(authority.host, local.namespace);
    if (!service)
      return {
        kind: 'reject',
        status: 503,
        reason: 'unknown-service',
        message: `requested service ${authority.host} not found`,
      };
    const mapped = local.services.find((s) => s.service === serviceKey(service!))?.ports.get(authority.port);
    const declared = service.ports.find((p) => p.servicePort === authority.port)?.targetPort;
    const resolved = mapped || declared;
    if (!resolved) {
      return {
        kind: 'reject',
        status: 503,
        reason: 'unresolved-port',
        message: `requested service ${authority.host}:${authority.port} found, but cannot resolve port`,
      };
    }
    port = resolved;
  }
  if ((request.illegalPorts ?? DEFAULT_ILLEGAL_PORTS).includes(port)) {
    return {
      kind: 'reject',
      status: 503,
      reason: 'illegal-port',
      message: `attempted recursive call to ourselves on port ${port}`,
    };
  }
  const targetPort = local.applicationTunnel?.port ?? port;
  return {
    kind: 'accept',
    target: { ip: connectionIp, port: targetPort },
    resolvedPort: port,
    workload: local,
    ...(service ? { service } : {}),
    message: `deliver to ${connectionIp}:${targetPort}`,
  };
}
