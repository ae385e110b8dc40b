// The SOCKS5 outbound listener (UNSTABLE_ENABLE_SOCKS5): the client's source IP names the source
// workload; a domain target is resolved through the mesh's services first (ztunnel resolves it through
// its DNS proxy), then the system resolver.
import { lookup } from 'node:dns/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { handleOutbound, type OutboundDeps, type OutboundFailure } from './outbound.ts';
import type { ProxyState } from './proxy-state.ts';
import { listen } from '@ambient-ts/runtime';
import { acceptSocks5, answerSocks5, socksReply, type SocksTarget } from '@ambient-ts/socks5';

const replyFor: Record<OutboundFailure, number> = {
  'not-allowed': socksReply.notAllowed,
  unreachable: socksReply.hostUnreachable,
  refused: socksReply.connectionRefused,
};

async function resolveTarget(
  state: ProxyState,
  network: string,
  target: SocksTarget,
  namespace: string,
): Promise<{ ip: string; port: number } | undefined> {
  if (target.kind === 'ip') return { ip: target.host, port: target.port };
  const service = state.store.findBestServiceByHostname(target.host, namespace);
  const vip = service?.vips.find((entry) => entry.network === network) ?? service?.vips[0];
  if (vip) return { ip: vip.address, port: target.port };
  try {
    return { ip: (await lookup(target.host)).address, port: target.port };
  } catch {
    return undefined;
  }
}

export async function startSocks5(
  address: { host: string; port: number },
  deps: OutboundDeps & { state: ProxyState; log: Logger; workloadWaitMs?: number },
): Promise<Server> {
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (client: Socket) => {
    client.on('error', () => {});
    void (async () => {
      const target = await acceptSocks5(client);
      const source = await deps.state.sourceWorkload(client.remoteAddress ?? '', deps.workloadWaitMs ?? 5000);
      if (!source) {
        deps.log.warn(
          { src: client.remoteAddress },
          'connection failed: unknown source workload for SOCKS5 client address',
        );
        answerSocks5(client, socksReply.notAllowed);
        return;
      }
      const destination = await resolveTarget(deps.state, deps.network, target, source.namespace);
      if (!destination) {
        deps.log.warn(
          { src: client.remoteAddress, target: target.host },
          'connection failed: cannot resolve SOCKS5 target',
        );
        answerSocks5(client, socksReply.hostUnreachable);
        return;
      }
      await handleOutbound(deps, { client, source, destination }, (failure) => {
        answerSocks5(client, failure ? replyFor[failure] : socksReply.succeeded);
      });
    })().catch((error: Error) => {
      deps.log.debug({ src: client.remoteAddress, error: error.message }, 'SOCKS5 connection ended early');
      client.destroy();
    });
  });
  await listen(server, address, 'SOCKS5');
  return server;
}
