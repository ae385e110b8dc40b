// Whether this machine can do transparent capture: PROXY_MODE=shared (listeners inside each pod's namespace) and
// dedicated mode's 15001 listener (original destination of iptables-redirected connections, ztunnel's own
// sockets marked so the rule lets them pass). Both need @ambient-ts/netns, an optional dependency whose native
// addon may not be built (no compiler, not Linux), and the right to set SO_MARK (CAP_NET_ADMIN). Loaded lazily so
// ztunnel runs without it; the answer says why not, and `captureUnavailableMessage` which modes that costs.
import { Socket } from 'node:net';
import type * as Netns from '@ambient-ts/netns';
import { ZTUNNEL_PACKET_MARK } from './config.ts';

export type NetnsModule = typeof Netns;

/** Available: the loaded helper to capture with. Unavailable: why, in one sentence. */
export type CaptureSupport = { available: true; netns: NetnsModule } | { available: false; reason: string };

/** How ztunnel asks (injectable: tests simulate a machine without the helper). */
export type CaptureProbe = () => Promise<CaptureSupport>;

/** Loads @ambient-ts/netns and checks that its addon is built and that SO_MARK can be set here. */
export const captureSupport: CaptureProbe = async () => {
  let netns: NetnsModule;
  try {
    netns = await import('@ambient-ts/netns');
  } catch (error) {
    return { available: false, reason: `@ambient-ts/netns is not installed (${(error as Error).message})` };
  }
  const support = netns.netnsSupport();
  if (!support.available) return support;
  try {
    // The probe every capture needs first: a socket carrying ztunnel's mark (EPERM without CAP_NET_ADMIN).
    new Socket({ fd: netns.createSocketFd(4, { mark: ZTUNNEL_PACKET_MARK }) }).destroy();
  } catch (error) {
    return {
      available: false,
      reason: `SO_MARK cannot be set here (it needs CAP_NET_ADMIN: run as root or grant the capability): ${(error as Error).message}`,
    };
  }
  return { available: true, netns };
};

/**
 * The start-up message of a machine without capture: why, which modes are unavailable, and what still runs.
 */
export function captureUnavailableMessage(reason: string): string {
  return (
    `transparent capture is unavailable on this machine: ${reason}. ` +
    'Unavailable: PROXY_MODE=shared (in-pod capture: listeners inside every pod namespace, ZDS), ' +
    'PROXY_MODE=dedicated capture on 15001 (original destination of iptables-redirected connections, SO_MARK on ' +
    "ztunnel's own sockets). Still available: PROXY_MODE=node, and PROXY_MODE=dedicated through SOCKS5 " +
    '(UNSTABLE_ENABLE_SOCKS5=true)'
  );
}
