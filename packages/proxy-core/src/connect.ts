// TCP connect with a deadline, as both proxies dial applications and plain-TCP upstreams (ztunnel's
// 10 s connect timeout): TCP_NODELAY, an optional local address, and the socket destroyed on timeout.
// The socket comes from hbone's SocketFactory seam (default node:net's connect), so ztunnel's in-pod
// mode can create it inside a pod's network namespace.
import type { Socket } from 'node:net';
import { defaultSocketFactory, type SocketFactory } from '@ambient-ts/hbone';

export interface ConnectTcpOptions {
  host: string;
  port: number;
  /** Give up (and destroy the socket) after this long. Default 10 s. */
  timeoutMs?: number;
  /** Local IP to dial from. */
  localAddress?: string;
  /** Creates the socket (e.g. inside a pod's network namespace, marked); default node:net's connect. */
  socketFactory?: SocketFactory;
}

/** The default connect deadline: ztunnel's. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Open a TCP connection. Resolves once connected; rejects with the socket's error (or the factory's, when
 * it could not create the socket), or with `connection timed out after <n> ms` when the deadline passes first.
 */
export function connectTcp(options: ConnectTcpOptions): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const factory = options.socketFactory ?? defaultSocketFactory;
  return new Promise((resolve, reject) => {
    let socket: Socket;
    try {
      socket = factory({
        host: options.host,
        port: options.port,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      });
    } catch (error) {
      reject(error as Error);
      return;
    }
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error(`connection timed out after ${timeoutMs} ms`)), timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
