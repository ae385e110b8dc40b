// The dialer seam: how a TCP socket towards a peer is created. By default node:net's connect; ztunnel's
// in-pod mode passes one that creates the socket inside the pod's network namespace and marks it, so every
// outbound dial of a pod proxy (HBONE, plain TCP, the app behind an inbound tunnel) leaves from the pod.
import { connect, type Socket } from 'node:net';

/** Where a socket connects to, and optionally from. */
export interface SocketTarget {
  host: string;
  port: number;
  /** Local IP to bind before connecting. */
  localAddress?: string;
}

/**
 * Returns a socket that is connecting to `target` (it emits 'connect' or 'error' the node:net way). It may
 * throw synchronously when the socket cannot even be created; callers report that as a connect failure.
 * Callers set TCP_NODELAY and keepalive themselves.
 */
export type SocketFactory = (target: SocketTarget) => Socket;

/** node:net's connect: what every dial uses when no factory is given. */
export const defaultSocketFactory: SocketFactory = (target) =>
  connect({
    host: target.host,
    port: target.port,
    ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }),
  });
