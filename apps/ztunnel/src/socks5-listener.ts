// The SOCKS5 outbound listener (UNSTABLE_ENABLE_SOCKS5): the client's source IP names the source
// workload; a domain target is resolved through ztunnel's DNS resolver from that workload's point of view
// (mesh Services by any of their names, else the upstream nameservers), as ztunnel resolves it.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { handleOutbound, type OutboundDeps, type OutboundFailure } from './outbound.ts';
import type { ProxyState } from './proxy-state.ts';
import type { ZtunnelDns } from './dns/dns-server.ts';
import type { Workload } from '@ambient-ts/discovery';
import { listen } from '@ambient-ts/runtime';
import { acceptSocks5, answerSocks5, socksReply, type SocksTarget } from '@ambient-ts/socks5';

const replyFor: Record<OutboundFailure, number> = {
  'not-allowed': socksReply.notAllowed,
  unreachable: socksReply.hostUnreachable,
  refused: socksReply.connectionRefused,
};

async function resolveTarget(
  dns: ZtunnelDns,
  target: SocksTarget,
  source: Workload,
): Promise<{ ip: string; port: number } | undefined> {
  if (target.kind === 'ip') return { ip: target.host, port: target.port };
  const ip = await dns.resolveHost(target.host, source);
  return ip === undefined ? undefined : { ip, port: target.port };
}

export async function startSocks5(
  address: { host: string; port: number },
  deps: OutboundDeps & { state: ProxyState; log: Logger; dns: ZtunnelDns; workloadWaitMs?: number },
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
      const destination = await resolveTarget(deps.dns, target, source);
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
