// Outbound: route one captured connection (ztunnel-facts §2.1) and carry it — HBONE through the pool with
// the source workload's certificate and ztunnel's headers (§1.5), double HBONE across networks, plain TCP
// for non-mesh workloads and unknown destinations. Returns how it went so the capture side can answer
// (SOCKS5 reply) before bytes flow.
import { lookup } from 'node:dns/promises';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatHostPort, normalizeAddress } from '@ambient-ts/addresses';
import {
  routeOutbound,
  workloadIdentity,
  type OutboundDecision,
  type Dial,
  type Workload,
} from '@ambient-ts/discovery';
import {
  FORWARDED_NETWORK_HEADER,
  HboneError,
  connectDoubleHbone,
  formatForwarded,
  newTraceparent,
  type HbonePool,
  type SocketFactory,
} from '@ambient-ts/hbone';
import { carry, connectTcp } from '@ambient-ts/proxy-core';
import type { Logger } from 'pino';
import { baggageOf } from './baggage.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { WorkloadIdentities } from './identity.ts';
import type { ProxyState } from './proxy-state.ts';
import type { ConnectionContext, TrafficReporter } from './traffic.ts';

export interface OutboundDeps {
  state: ProxyState;
  identities: WorkloadIdentities;
  pool: HbonePool;
  connections: ConnectionManager;
  traffic: TrafficReporter;
  log: Logger;
  network: string;
  onDemand: boolean;
  illegalPorts: readonly number[];
  connectTimeoutMs?: number;
  /** Creates plain-TCP upstream sockets (in-pod mode: inside the pod's namespace, marked); HBONE dials go through `pool`. */
  socketFactory?: SocketFactory;
  /** On-demand DNS for workloads known only by hostname (ztunnel's DNS resolver, counted); default the system's. */
  resolveHostname?: (hostname: string, source: Workload) => Promise<string | undefined>;
}

export interface OutboundConnection {
  client: Socket;
  source: Workload;
  destination: { ip: string; port: number };
}

/** Why a connection was not carried, for the capture side (SOCKS5 reply code). */
export type OutboundFailure = 'not-allowed' | 'unreachable' | 'refused';

async function resolveDial(
  dial: Dial,
  deps: OutboundDeps,
  connection: OutboundConnection,
): Promise<{ ip: string; port: number }> {
  if (dial.kind === 'ip') return { ip: dial.ip, port: dial.port };
  if (deps.resolveHostname) {
    const ip = await deps.resolveHostname(dial.hostname, connection.source);
    if (ip === undefined) throw new Error(`on-demand DNS: ${dial.hostname} did not resolve`);
    return { ip, port: dial.port };
  }
  const answer = await lookup(dial.hostname);
  return { ip: answer.address, port: dial.port };
}

async function route(deps: OutboundDeps, connection: OutboundConnection): Promise<OutboundDecision> {
  const options = { network: deps.network, onDemand: deps.onDemand, illegalPorts: deps.illegalPorts };
  const first = routeOutbound(
    deps.state.store,
    { source: connection.source, destination: connection.destination },
    options,
  );
  if (first.kind !== 'lookup') return first;
  await deps.state.demand(first.name);
  return routeOutbound(
    deps.state.store,
    { source: connection.source, destination: connection.destination },
    { ...options, onDemand: false },
  );
}

/** The client's IP; a dual-stack (in-pod) listener reports IPv4 peers as ::ffff:a.b.c.d. */
const clientIpOf = (client: Socket): string => normalizeAddress(client.remoteAddress ?? '');

function tunnelHeaders(source: Workload, client: Socket, serviceHost: string | undefined): Record<string, string> {
  return {
    baggage: baggageOf(source),
    forwarded: formatForwarded({ address: clientIpOf(client), port: client.remotePort ?? 0 }, serviceHost),
    traceparent: newTraceparent(),
  };
}

/** Open the upstream for a decision; returns the stream and what to report. */
async function openUpstream(
  deps: OutboundDeps,
  connection: OutboundConnection,
  decision: Exclude<OutboundDecision, { kind: 'drop' | 'fail' | 'lookup' }>,
): Promise<{ stream: Duplex; context: Partial<ConnectionContext> }> {
  const timeoutMs = deps.connectTimeoutMs;
  const factory = deps.socketFactory ? { socketFactory: deps.socketFactory } : {};
  if (decision.kind === 'passthrough') {
    const socket = await connectTcp({ host: decision.target.ip, port: decision.target.port, timeoutMs, ...factory });
    return {
      stream: socket,
      context: {
        destinationAddress: formatHostPort(decision.target.ip, decision.target.port),
        service: decision.service,
        mutualTls: false,
      },
    };
  }
  if (decision.kind === 'tcp') {
    const target = await resolveDial(decision.target, deps, connection);
    const socket = await connectTcp({ host: target.ip, port: target.port, timeoutMs, ...factory });
    return {
      stream: socket,
      context: {
        destinationAddress: formatHostPort(target.ip, target.port),
        destination: decision.upstream,
        service: decision.service,
        mutualTls: false,
      },
    };
  }
  const sourceIdentity = workloadIdentity(connection.source);
  const credentials = await deps.identities.credentials(sourceIdentity);
  const headers = tunnelHeaders(connection.source, connection.client, decision.service?.hostname);
  const clientIp = clientIpOf(connection.client);
  const sourceIp = connection.source.workloadIps.includes(clientIp) ? clientIp : undefined;
  if (decision.kind === 'hbone') {
    const target = await resolveDial(decision.target, deps, connection);
    const tunnel = await deps.pool.connect({
      address: { host: target.ip, port: target.port },
      authority: decision.authority,
      headers,
      credentials,
      sourceIdentity,
      expectedIdentities: decision.expectedIdentities,
      ...(sourceIp ? { sourceIp } : {}),
    });
    return {
      stream: tunnel.stream,
      context: {
        destinationAddress: formatHostPort(target.ip, target.port),
        hboneAddress: decision.authority,
        destination: decision.upstream,
        destinationIdentity: tunnel.peerIdentity,
        service: decision.service,
        mutualTls: true,
      },
    };
  }
  const gateway = await resolveDial(decision.gateway, deps, connection);
  const tunnel = await connectDoubleHbone(deps.pool, {
    outer: {
      address: { host: gateway.ip, port: gateway.port },
      authority: decision.authority,
      headers,
      credentials,
      sourceIdentity,
      expectedIdentities: decision.gatewayIdentities,
    },
    inner: {
      authority: decision.authority,
      headers: { ...headers, [FORWARDED_NETWORK_HEADER]: deps.network },
      credentials,
      expectedIdentities: decision.innerIdentities,
      network: deps.network,
    },
  });
  return {
    stream: tunnel.stream,
    context: {
      destinationAddress: formatHostPort(gateway.ip, gateway.port),
      hboneAddress: decision.authority,
      destination: decision.upstream,
      destinationIdentity: tunnel.peerIdentity,
      service: decision.service,
      mutualTls: true,
    },
  };
}

type FailureFlags = 'CONNECT' | 'TLS_FAILURE' | 'IDENTITY_ERROR' | 'NETWORK_POLICY' | 'H2_HANDSHAKE_FAILURE';

function describeFailure(error: unknown): { message: string; flags: FailureFlags } {
  const message = error instanceof Error ? error.message : String(error);
  if (!HboneError.isHboneError(error)) return { message: `io error: ${message}`, flags: 'CONNECT' };
  switch (error.code) {
    case 'CONNECT_TIMEOUT':
      return {
        message: `connection timed out, maybe a NetworkPolicy is blocking HBONE port 15008: ${message}`,
        flags: 'NETWORK_POLICY',
      };
    case 'PEER_IDENTITY_MISMATCH':
      return { message: `identity error: ${message}`, flags: 'IDENTITY_ERROR' };
    case 'TLS_HANDSHAKE_FAILED':
    case 'ALPN_NOT_H2':
    case 'PEER_CERTIFICATE_INVALID':
      return { message: `tls handshake failed: ${message}`, flags: 'TLS_FAILURE' };
    case 'H2_HANDSHAKE_FAILED':
      return { message: `http2 handshake failed: ${message}`, flags: 'H2_HANDSHAKE_FAILURE' };
    case 'TUNNEL_REFUSED':
      return { message: `upstream refused the tunnel with HTTP status ${error.status}: ${message}`, flags: 'CONNECT' };
    default:
      return { message: `io error: ${message}`, flags: 'CONNECT' };
  }
}

/**
 * Route and carry one outbound connection. `ready` is called once the upstream is established (or it
 * failed) so SOCKS5 can answer; bytes flow after it returns.
 */
export async function handleOutbound(
  deps: OutboundDeps,
  connection: OutboundConnection,
  ready: (failure?: OutboundFailure) => void,
): Promise<void> {
  const { client, source, destination } = connection;
  const sourceAddress = formatHostPort(clientIpOf(client), client.remotePort ?? 0);
  const originalDestination = formatHostPort(destination.ip, destination.port);
  const base = { direction: 'outbound' as const, sourceAddress, source, sourceIdentity: workloadIdentity(source) };
  const decision = await route(deps, connection);
  deps.log.debug(
    { src: sourceAddress, dst: originalDestination, decision: decision.kind, reason: decision.message },
    'outbound route',
  );
  if (decision.kind === 'drop' || decision.kind === 'fail' || decision.kind === 'lookup') {
    deps.traffic.failed({ ...base, destinationAddress: originalDestination, mutualTls: false }, decision.message);
    ready(decision.kind === 'drop' ? 'not-allowed' : 'unreachable');
    return;
  }
  let upstream: { stream: Duplex; context: Partial<ConnectionContext> };
  try {
    upstream = await openUpstream(deps, connection, decision);
  } catch (error) {
    const { message, flags } = describeFailure(error);
    const mutualTls = decision.kind === 'hbone' || decision.kind === 'double-hbone';
    deps.traffic.failed({ ...base, destinationAddress: originalDestination, mutualTls }, message, flags);
    ready('refused');
    return;
  }
  const context: ConnectionContext = {
    ...base,
    destinationAddress: originalDestination,
    mutualTls: false,
    ...upstream.context,
  };
  if (!context.mutualTls) delete context.sourceIdentity;
  const finish = deps.traffic.opened(context);
  ready();
  finish(
    await carry({
      tracker: deps.connections,
      info: {
        direction: 'outbound',
        source: sourceAddress,
        destination: context.destinationAddress,
        ...(context.hboneAddress ? { hboneAuthority: context.hboneAddress } : {}),
        localWorkload: source.uid,
      },
      downstream: client,
      upstream: upstream.stream,
      // The capture side may have paused the client (SOCKS5 handshake); bytes flow once the splice is in place.
      flowing: () => {
        if (client.isPaused()) client.resume();
      },
    }),
  );
}
