// Inbound plaintext (15006): a non-HBONE connection to a local workload. ztunnel reads the original
// destination, drops illegal ports, authorizes with NO source identity (so identity conditions never
// match), connects to the app and splices. Reporter=destination, connection_security_policy=unknown.
import type { Socket } from 'node:net';
import { formatHostPort, normalizeAddress } from '@ambient-ts/addresses';
import type { SocketFactory } from '@ambient-ts/hbone';
import { carry, connectTcp, notCarried } from '@ambient-ts/proxy-core';
import type { Logger } from 'pino';
import type { Authorizer } from './authorization.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { OriginalDestination } from './original-destination.ts';
import type { ProxyState } from './proxy-state.ts';
import type { TrafficReporter } from './traffic.ts';

export interface PassthroughDeps {
  state: ProxyState;
  authorizer: Authorizer;
  connections: ConnectionManager;
  traffic: TrafficReporter;
  originalDestination: OriginalDestination;
  log: Logger;
  network: string;
  illegalPorts: readonly number[];
  connectTimeoutMs?: number;
  /** How the app is dialled, given the client's IP (see InboundDeps.dialApp). Default: node:net from this host. */
  dialApp?: (clientIp: string) => SocketFactory;
}

export function passthroughHandler(deps: PassthroughDeps): (socket: Socket) => Promise<void> {
  return async (client) => {
    client.on('error', () => {});
    // A dual-stack (in-pod) listener reports IPv4 peers as ::ffff:a.b.c.d.
    const clientIp = normalizeAddress(client.remoteAddress ?? '');
    const sourceAddress = formatHostPort(clientIp, client.remotePort ?? 0);
    const listenerAddress = formatHostPort(normalizeAddress(client.localAddress ?? ''), client.localPort ?? 0);
    const failed = (error: string): void => {
      deps.traffic.failed(
        { direction: 'inbound', sourceAddress, destinationAddress: listenerAddress, mutualTls: false },
        error,
      );
      client.destroy();
    };
    const local = deps.state.localWorkloadByIp(client.localAddress ?? '');
    if (!local) return failed(`no local workload at ${client.localAddress}`);
    const original = deps.originalDestination.lookup(client, local);
    if (!original.ok) return failed(original.error);
    const { ip, port } = original;
    if (deps.illegalPorts.includes(port))
      return failed(`attempted recursive call to ourselves on illegal port ${port}`);
    const destinationAddress = formatHostPort(ip, port);
    const source = deps.state.store.findWorkloadByAddress(deps.network, clientIp);
    const service = deps.state.store
      .servicesOfWorkload(local)
      .find((candidate) => candidate.ports.some((entry) => entry.targetPort === port));
    const context = {
      direction: 'inbound' as const,
      sourceAddress,
      source,
      destinationAddress,
      destination: local,
      service,
      mutualTls: false,
    };
    const policyInput = { sourceIp: clientIp, destinationIp: ip, destinationPort: port };
    const verdict = deps.authorizer.check(local, policyInput);
    const finish = deps.traffic.opened(context);
    if (!verdict.allowed) {
      client.destroy();
      finish(notCarried({ kind: 'policy', message: `connection closed due to policy rejection: ${verdict.reason}` }));
      return;
    }
    let app: Socket;
    try {
      app = await connectTcp({
        host: ip,
        port,
        timeoutMs: deps.connectTimeoutMs,
        ...(deps.dialApp ? { socketFactory: deps.dialApp(clientIp) } : {}),
      });
    } catch (error) {
      client.destroy();
      finish(notCarried({ kind: 'error', message: `io error: ${(error as Error).message}`, flags: 'CONNECT' }));
      return;
    }
    finish(
      await carry({
        tracker: deps.connections,
        info: {
          direction: 'inbound',
          source: sourceAddress,
          destination: destinationAddress,
          localWorkload: local.uid,
          policy: policyInput,
        },
        downstream: client,
        upstream: app,
        teardown: (reason) => {
          deps.log.info(
            { src: sourceAddress, dst: destinationAddress, reason: reason.message },
            'closing inbound plaintext connection',
          );
          client.destroy();
          app.destroy();
        },
      }),
    );
  };
}
