// Dedicated mode's outbound capture (facts §1.1, §2.1 step 0, §9.2, §9.3 last bullet): with Istio's dedicated-mode
// rule in the namespace ztunnel shares with its workload, every TCP connection the workload opens lands here on
// 15001. The original destination comes from SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST (the local address when
// not redirected), the source is the one workload served, and the connection then takes the same outbound path
// as SOCKS5 (HBONE, passthrough, waypoints). ztunnel's own sockets carry PACKET_MARK so the rule lets them pass.
import { lookup } from 'node:dns/promises';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { formatHostPort, normalizeAddress } from '@ambient-ts/addresses';
import { splice, type SocketFactory } from '@ambient-ts/hbone';
import { connectTcp } from '@ambient-ts/proxy-core';
import type { HostPort } from '@ambient-ts/runtime';
import { listen } from '@ambient-ts/runtime';
import type { Logger } from 'pino';
import { captureUnavailableMessage, type CaptureProbe, type NetnsModule } from './capture-support.ts';
import { ZTUNNEL_PACKET_MARK, type Config } from './config.ts';
import { handleOutbound, type OutboundDeps } from './outbound.ts';
import type { ProxyState } from './proxy-state.ts';

/** Sockets made with SO_MARK set before connect(2), so the SYN already carries the mark the rule checks. */
export function markedSocketFactory(netns: NetnsModule, mark: number): SocketFactory {
  return (target) =>
    netns.connectInNamespace({
      host: target.host,
      port: target.port,
      mark,
      ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }),
    });
}

/** What dedicated mode captures with: the loaded helper, the mark on ztunnel's own sockets, and their factory. */
export interface DedicatedCapture {
  netns: NetnsModule;
  mark: number;
  socketFactory: SocketFactory;
}

/**
 * Whether this dedicated ztunnel captures: where the helper is usable, yes, marking its own sockets with
 * PACKET_MARK or, when unset, 1337 (Istio leaves dedicated mode unmarked, but its dedicated rule redirects every
 * unmarked TCP connection, so ztunnel's own dials would come back into 15001). Where it is not, logs why, which
 * modes that costs, and that outbound traffic then only goes through SOCKS5.
 */
export async function planDedicatedCapture(
  config: Config,
  probe: CaptureProbe,
  log: Logger,
): Promise<DedicatedCapture | undefined> {
  if (config.proxyMode !== 'dedicated') return undefined;
  const support = await probe();
  if (!support.available) {
    const outbound = config.enableSocks5
      ? `outbound traffic only through SOCKS5 on ${formatHostPort(config.socks5Address.host, config.socks5Address.port)}`
      : 'no outbound listener at all (UNSTABLE_ENABLE_SOCKS5 is false)';
    log.warn(
      { capture: 'unavailable', reason: support.reason },
      `dedicated mode without capture: no listener on ${formatHostPort(config.outboundCaptureAddress.host, config.outboundCaptureAddress.port)}, ${outbound}; ${captureUnavailableMessage(support.reason)}`,
    );
    return undefined;
  }
  const mark = config.packetMark ?? ZTUNNEL_PACKET_MARK;
  if ((mark & 0xfff) !== (ZTUNNEL_PACKET_MARK & 0xfff)) {
    log.warn(
      { mark },
      `PACKET_MARK=${mark} is not 0x539 under the 0xfff mask that Istio's dedicated rule exempts: with that rule, ztunnel's own dials would be redirected back into its capture listener (a passthrough would loop); use 1337 or a rule that exempts ${mark}`,
    );
  }
  return { netns: support.netns, mark, socketFactory: markedSocketFactory(support.netns, mark) };
}

/**
 * The control plane's endpoints as `ip:port` (XDS_ADDRESS, and CA_ADDRESS unless FAKE_CA), names resolved once.
 * grpc-js cannot mark its sockets, so under the dedicated rule ztunnel's own xDS and CA connections come back
 * into 15001; they must pass without waiting for the dedicated workload, which xDS itself is about to deliver.
 */
export async function controlPlaneEndpoints(config: Config, log: Logger): Promise<Set<string>> {
  const urls = [config.xdsAddress, config.fakeCa ? undefined : config.caAddress];
  const endpoints = new Set<string>();
  for (const url of urls) {
    if (!url) continue;
    let host: string;
    let port: number;
    try {
      const parsed = new URL(url);
      host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      port = Number(parsed.port || (parsed.protocol === 'http:' ? 80 : 443));
    } catch {
      continue;
    }
    const ips = isIP(host)
      ? [host]
      : await lookup(host, { all: true }).then(
          (answers) => answers.map((answer) => answer.address),
          (error: Error) => {
            log.warn({ host, error: error.message }, 'cannot resolve the control plane for the capture bypass');
            return [];
          },
        );
    for (const ip of ips) endpoints.add(formatHostPort(normalizeAddress(ip), port));
  }
  return endpoints;
}

export interface CaptureListenerDeps extends OutboundDeps {
  /** Marked: without it ztunnel's own upstream dials would be redirected back here. */
  socketFactory: SocketFactory;
  state: ProxyState;
  log: Logger;
  netns: NetnsModule;
  /** `ip:port` of the control plane: carried as plain TCP at once (see controlPlaneEndpoints). */
  controlPlane: ReadonlySet<string>;
  workloadWaitMs?: number;
}

/** Listen on `address` (`[::]:15001` by default) and carry every captured connection outbound. */
export async function startCaptureListener(address: HostPort, deps: CaptureListenerDeps): Promise<Server> {
  const server = createServer({ noDelay: true, allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    client.on('error', () => {});
    void onCaptured(client, deps).catch((error: Error) => {
      deps.log.debug({ src: client.remoteAddress, error: error.message }, 'captured connection ended early');
      client.destroy();
    });
  });
  await listen(server, address, 'outbound capture');
  return server;
}

async function onCaptured(client: Socket, deps: CaptureListenerDeps): Promise<void> {
  const clientIp = normalizeAddress(client.remoteAddress ?? '');
  const src = formatHostPort(clientIp, client.remotePort ?? 0);
  let original: ReturnType<NetnsModule['originalDestination']>;
  try {
    original = deps.netns.originalDestination(client);
  } catch (error) {
    deps.log.warn({ src, error: (error as Error).message }, 'connection failed: cannot read the original destination');
    client.resetAndDestroy();
    return;
  }
  const destination = { ip: normalizeAddress(original.address), port: original.port };
  const dst = formatHostPort(destination.ip, destination.port);
  // Not redirected: the "original" destination is this listener itself (conntrack reports it unchanged, or the
  // local-address fallback does), so someone dialled 15001 directly. Carrying it would dial 15001 again; refuse
  // it as an illegal port (facts §2.6).
  if (destination.port === client.localPort && destination.ip === normalizeAddress(client.localAddress ?? '')) {
    deps.log.warn(
      { src, dst },
      `connection failed: attempted recursive call to ourselves on illegal port ${destination.port}: ${dst} is ztunnel's own outbound capture port, dialled directly (not redirected); refused so it cannot loop`,
    );
    client.resetAndDestroy();
    return;
  }
  if (deps.controlPlane.has(dst)) {
    await passControlPlane(client, destination, deps);
    return;
  }
  const source = await deps.state.sourceWorkload(clientIp, deps.workloadWaitMs ?? 5000);
  if (!source) {
    deps.log.warn({ src, dst }, 'connection failed: the dedicated workload (PROXY_WORKLOAD_INFO) is not known yet');
    client.resetAndDestroy();
    return;
  }
  await handleOutbound(deps, { client, source, destination }, (failure) => {
    // Nothing to answer on a captured connection: a failure closes it (reset), success lets bytes flow.
    if (failure) client.resetAndDestroy();
  });
}

/** ztunnel's own control-plane connection, captured because grpc-js cannot mark it: plain TCP, marked, untracked. */
async function passControlPlane(
  client: Socket,
  destination: { ip: string; port: number },
  deps: CaptureListenerDeps,
): Promise<void> {
  const dst = formatHostPort(destination.ip, destination.port);
  let upstream: Socket;
  try {
    upstream = await connectTcp({ host: destination.ip, port: destination.port, socketFactory: deps.socketFactory });
  } catch (error) {
    deps.log.warn({ dst, error: (error as Error).message }, 'control-plane connection failed');
    client.resetAndDestroy();
    return;
  }
  deps.log.debug({ dst }, 'control-plane connection (ztunnel itself, captured) carried as plain TCP');
  const spliced = splice(client, upstream);
  client.resume(); // accepted paused (pauseOnConnect)
  await spliced.done;
}
