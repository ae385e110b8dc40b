// TCP through the waypoint (l7-facts §1.10): authorize as TCP (ALLOW rules using HTTP-only fields never
// match; DENY rules ignore them), then pick an endpoint per connection and splice the tunnel onto a new
// upstream tunnel. A denied or unroutable connection is reset — TCP has no status to answer with.
import { formatSocketAddress } from '@ambient-ts/addresses';
import type { DiscoveryStore, Workload } from '@ambient-ts/discovery';
import { splice, type AcceptedTunnel } from '@ambient-ts/hbone';
import { evaluateL7, selectForWaypoint, type AuthorizationPolicy, type WaypointTarget } from '@ambient-ts/policy';
import type { Duplex } from 'node:stream';
import type { TrafficReporter } from '../telemetry/reporter.ts';
import type { UpstreamConnector } from '../upstream/connector.ts';
import { pickEndpoint, targetAuthority, upstreamTarget, type UpstreamTarget } from '../upstream/endpoints.ts';
import { withHead } from '../stream-shims.ts';
import { destinationIp, destinationPort, type TunnelContext } from './tunnel.ts';

export interface TcpProxyDeps {
  readonly store: DiscoveryStore;
  readonly policies: () => readonly AuthorizationPolicy[];
  readonly waypointTarget: (tunnel: TunnelContext) => WaypointTarget;
  readonly connector: UpstreamConnector;
  readonly reporter: TrafficReporter;
  readonly selfWorkload: () => Workload;
}

function hostOf(target: UpstreamTarget | undefined): string | undefined {
  return target ? targetAuthority(target) : undefined;
}

export async function proxyTcp(
  deps: TcpProxyDeps,
  tunnel: AcceptedTunnel,
  context: TunnelContext,
  head: Buffer,
): Promise<void> {
  const started = performance.now();
  const service = context.target.kind === 'service' ? context.target.service : undefined;
  const report = { source: context.source, sourcePrincipal: context.peerIdentity, service };
  const base = {
    downstreamLocal: context.authority,
    downstreamRemote: formatSocketAddress(context.remote),
  };
  deps.reporter.connectionOpened(report);
  const fail = (flags: string, error: string, target?: UpstreamTarget): void => {
    tunnel.close('reset');
    deps.reporter.connection({
      ...base,
      context: { ...report, destination: target?.workload },
      durationMs: performance.now() - started,
      requestBytes: head.length,
      responseBytes: 0,
      flags,
      upstreamHost: hostOf(target),
      error,
    });
  };
  const decision = evaluateL7(selectForWaypoint(deps.policies(), deps.waypointTarget(context)), {
    protocol: 'tcp',
    sourceIp: context.remote.address,
    sourceIdentity: context.peerIdentity,
    destinationIp: destinationIp(context),
    destinationPort: destinationPort(context),
  });
  if (!decision.allowed) return fail('DENY', `connection closed due to policy rejection: ${decision.reason}`);

  const tried = new Set<string>();
  let upstream: Duplex | undefined;
  let target: UpstreamTarget | undefined;
  let lastError = 'no healthy upstream';
  for (let attempt = 0; attempt < 3 && !upstream; attempt++) {
    if (context.target.kind === 'workload') {
      target = upstreamTarget(context.target.workload, context.target.ip, context.target.port);
    } else {
      const pick = pickEndpoint(
        deps.store,
        context.target.service,
        context.target.servicePort,
        deps.selfWorkload(),
        tried,
      );
      if (pick.kind === 'none') {
        if (attempt === 0) return fail('UH', `no healthy upstream: ${pick.reason}`);
        break;
      }
      target = pick.target;
    }
    tried.add(target.workload.uid);
    try {
      upstream = await deps.connector.open(target);
    } catch (error) {
      lastError = `upstream connect failed: ${(error as Error).message}`;
    }
  }
  if (!upstream) return fail('UF', lastError, target);
  const downstream = tunnel.stream.readableEnded ? withHead(tunnel.stream, head) : tunnel.stream;
  const result = await splice(downstream, upstream).done;
  deps.reporter.connection({
    ...base,
    context: { ...report, destination: target?.workload },
    durationMs: performance.now() - started,
    requestBytes: result.aToB,
    responseBytes: result.bToA,
    flags: result.outcome === 'clean' ? '-' : 'UC',
    upstreamHost: hostOf(target),
    ...(result.outcome === 'clean' ? {} : { error: result.error?.message ?? result.outcome }),
  });
}
