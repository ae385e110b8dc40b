// What the waypoint knows about one accepted HBONE tunnel (one CONNECT stream): who sent it, what it was
// addressed to, and how its bytes are being served.
import type { Workload } from '@ambient-ts/discovery';
import type { SocketAddress } from '@ambient-ts/hbone';
import type { Dispatch } from '../routing/dispatch.ts';

export type ServedDispatch = Extract<Dispatch, { kind: 'service' | 'workload' }>;

export interface TunnelContext {
  readonly id: number;
  /** The client's SPIFFE ID from the HBONE mTLS handshake (source.principal). */
  readonly peerIdentity: string;
  /** The HBONE connection's remote address (source.ip). */
  readonly remote: SocketAddress;
  /** The CONNECT authority exactly as received: the original destination. */
  readonly authority: string;
  readonly target: ServedDispatch;
  /** The source workload, found by the peer address. */
  readonly source?: Workload | undefined;
  readonly startedAt: number;
  /** How the stream is served, once decided. */
  mode: 'sniffing' | 'http1' | 'http2' | 'tcp';
  /** Requests in flight on this tunnel (HTTP). */
  inflight: number;
  /** End the tunnel gracefully when idle (drain). */
  closeIdle?: () => void;
}

/** `VIP:port` / `podIP:port` of the original destination as written in logs. */
export function destinationLabel(context: TunnelContext): string {
  return context.authority;
}

export function destinationIp(context: TunnelContext): string {
  return context.target.kind === 'service' ? context.target.vip : context.target.ip;
}

export function destinationPort(context: TunnelContext): number {
  return context.target.kind === 'service' ? context.target.servicePort : context.target.port;
}
