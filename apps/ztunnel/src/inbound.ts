// Inbound HBONE (15008): ztunnel's steps for each CONNECT (ztunnel-facts §1.6). Method and authority
// syntax (400) are checked by the HBONE server; here: find the local workload (503), validate the
// destination and resolve the port (400/503), authorize (401), connect to the app (503), answer 200 with
// the destination's baggage, splice — and keep the connection re-checkable by later policy changes.
import type { Socket } from 'node:net';
import { formatHostPort } from '@ambient-ts/addresses';
import { routeInbound, workloadIdentity, type Service, type Workload } from '@ambient-ts/discovery';
import {
  encodeProxyHeader,
  isFromOtherNetwork,
  parseForwarded,
  type ConnectRequest,
  type SocketFactory,
} from '@ambient-ts/hbone';
import { carry, connectTcp, notCarried } from '@ambient-ts/proxy-core';
import type { Logger } from 'pino';
import type { Authorizer } from './authorization.ts';
import { baggageOf } from './baggage.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { ProxyState } from './proxy-state.ts';
import type { TrafficReporter } from './traffic.ts';

export interface InboundDeps {
  state: ProxyState;
  authorizer: Authorizer;
  connections: ConnectionManager;
  traffic: TrafficReporter;
  log: Logger;
  network: string;
  enableResponseBaggage: boolean;
  localhostAppTunnel: boolean;
  illegalPorts: readonly number[];
  /** ztunnel waits this long for workload info before answering 503. */
  workloadWaitMs?: number;
  connectTimeoutMs?: number;
  /**
   * How the app is dialled, given the client's IP: in-pod mode creates the socket inside the pod's namespace,
   * marked, from that IP when original-source preservation is on. Default: node:net from this host.
   */
  dialApp?: (clientIp: string) => SocketFactory;
}

/** The Service to report: the `forwarded host=` one when it is one of the workload's, else the router's guess. */
function reportedService(
  deps: InboundDeps,
  workload: Workload,
  request: ConnectRequest,
  routed: Service | undefined,
): Service | undefined {
  const forwarded = parseForwarded(
    typeof request.headers['forwarded'] === 'string' ? request.headers['forwarded'] : undefined,
  );
  if (forwarded.host) {
    const match = deps.state.store.servicesOfWorkload(workload).find((service) => service.hostname === forwarded.host);
    if (match) return match;
  }
  return routed;
}

export function inboundHandler(deps: InboundDeps): (request: ConnectRequest) => Promise<void> {
  return async (request) => {
    const started = {
      sourceAddress: formatHostPort(request.remote.address, request.remote.port),
      hbone: request.rawAuthority,
    };
    const destinationAddress = formatHostPort(request.local.address, request.local.port);
    const fail = (status: number, error: string, source?: Workload): void => {
      request.refuse(status);
      deps.traffic.failed(
        {
          direction: 'inbound',
          sourceAddress: started.sourceAddress,
          destinationAddress,
          hboneAddress: started.hbone,
          source,
          sourceIdentity: request.peerIdentity,
          mutualTls: true,
        },
        error,
      );
    };
    const local = await deps.state.waitForLocalWorkload(request.local.address, deps.workloadWaitMs ?? 5000);
    if (!local) return fail(503, `unknown destination workload at ${request.local.address}`);
    const decision = routeInbound(deps.state.store, {
      local,
      connectionIp: request.local.address,
      authority: request.rawAuthority,
      illegalPorts: deps.illegalPorts,
    });
    if (decision.kind === 'reject') return fail(decision.status, decision.message);

    // Source for labels: by IP unless the request came through a gateway from another network.
    const viaGateway = isFromOtherNetwork(request.headers, deps.network);
    const source = viaGateway
      ? undefined
      : deps.state.store.findWorkloadByAddress(deps.network, request.remote.address);
    const context = {
      direction: 'inbound' as const,
      sourceAddress: started.sourceAddress,
      source,
      sourceIdentity: request.peerIdentity,
      // ztunnel reports the HBONE listener as dst.addr inbound and the real target as dst.hbone_addr.
      destinationAddress,
      hboneAddress: started.hbone,
      destination: decision.workload,
      destinationIdentity: workloadIdentity(decision.workload),
      service: reportedService(deps, decision.workload, request, decision.service),
      mutualTls: true,
    };
    const policyInput = {
      sourceIp: request.remote.address,
      sourceIdentity: request.peerIdentity,
      destinationIp: decision.target.ip,
      destinationPort: decision.resolvedPort,
    };
    const verdict = deps.authorizer.check(decision.workload, policyInput);
    const finish = deps.traffic.opened(context);
    if (!verdict.allowed) {
      request.refuse(401);
      finish(notCarried({ kind: 'policy', message: `connection closed due to policy rejection: ${verdict.reason}` }));
      return;
    }

    const tunnelApp = decision.workload.applicationTunnel;
    const proxied = tunnelApp?.protocol === 'PROXY';
    let app: Socket;
    try {
      const host = proxied && deps.localhostAppTunnel ? '127.0.0.1' : decision.target.ip;
      app = await connectTcp({
        host,
        port: decision.target.port,
        timeoutMs: deps.connectTimeoutMs,
        ...(deps.dialApp ? { socketFactory: deps.dialApp(request.remote.address) } : {}),
      });
    } catch (error) {
      request.refuse(503);
      finish(notCarried({ kind: 'error', message: `io error: ${(error as Error).message}`, flags: 'CONNECT' }));
      return;
    }
    if (request.state !== 'pending') {
      app.destroy();
      finish(notCarried({ kind: 'peer', message: 'client went away before the connection was established' }));
      return;
    }
    const tunnel = request.accept(deps.enableResponseBaggage ? { baggage: baggageOf(decision.workload) } : {});
    if (proxied) {
      const destination =
        request.authority.kind === 'ip'
          ? { address: request.authority.address, port: decision.target.port }
          : { address: decision.target.ip, port: decision.target.port };
      app.write(encodeProxyHeader({ source: request.remote, destination, peerIdentity: request.peerIdentity }));
    }
    finish(
      await carry({
        tracker: deps.connections,
        info: {
          direction: 'inbound',
          source: started.sourceAddress,
          destination: formatHostPort(decision.target.ip, decision.target.port),
          hboneAuthority: started.hbone,
          sourceIdentity: request.peerIdentity,
          localWorkload: decision.workload.uid,
          policy: policyInput,
        },
        downstream: tunnel.stream,
        upstream: app,
        teardown: (reason) => {
          deps.log.info(
            { src: started.sourceAddress, dst: started.hbone, reason: reason.message },
            'closing inbound connection',
          );
          tunnel.close('reset');
          app.destroy();
        },
      }),
    );
  };
}
