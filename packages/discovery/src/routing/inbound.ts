// Inbound HBONE checks of facts §1.6: authority parsing, destination validation, port resolution.
import { isIP } from 'node:net';
import type { DiscoveryStore } from '../store/store.ts';
import { canonicalIp } from '../ip.ts';
import { serviceKey, type Workload } from '../model.ts';
import { gatewayIsWorkload } from './gateway.ts';
import { DEFAULT_ILLEGAL_PORTS, type InboundDecision } from './types.ts';

export type Authority =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  | { readonly kind: 'hostname'; readonly hostname: string; readonly port: number };

/** `ip:port`, `[v6]:port` or `host:port` (port mandatory); undefined when malformed. */
export function parseAuthority(authority: string): Authority | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined)
    return isIP(match[1]) === 6 ? { kind: 'ip', ip: canonicalIp(match[1])!, port } : undefined;
  const host = match[2]!;
  if (isIP(host) === 4) return { kind: 'ip', ip: host, port };
  if (!/^[A-Za-z0-9*]([A-Za-z0-9-_.*]*[A-Za-z0-9])?$/.test(host)) return undefined;
  return { kind: 'hostname', hostname: host, port };
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
  const authority = parseAuthority(request.authority);
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
    if (!destinationAllowed(store, local, connectionIp, authority.ip)) {
      return {
        kind: 'reject',
        status: 400,
        reason: 'ip-mismatch',
        message: `ip mismatch: ${connectionIp} != ${authority.ip}`,
      };
    }
  } else {
    service = store.findBestServiceByHostname(authority.hostname, local.namespace);
    if (!service)
      return {
        kind: 'reject',
        status: 503,
        reason: 'unknown-service',
        message: `requested service ${authority.hostname} not found`,
      };
    const mapped = local.services.find((s) => s.service === serviceKey(service!))?.ports.get(authority.port);
    const declared = service.ports.find((p) => p.servicePort === authority.port)?.targetPort;
    const resolved = mapped || declared;
    if (!resolved) {
      return {
        kind: 'reject',
        status: 503,
        reason: 'unresolved-port',
        message: `requested service ${authority.hostname}:${authority.port} found, but cannot resolve port`,
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
