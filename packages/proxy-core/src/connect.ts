// TCP connect with a deadline, as both proxies dial applications and plain-TCP upstreams (ztunnel's
// 10 s connect timeout): TCP_NODELAY, an optional local address, and the socket destroyed on timeout.
import { connect, type Socket } from 'node:net';

export interface ConnectTcpOptions {
  host: string;
  port: number;
  /** Give up (and destroy the socket) after this long. Default 10 s. */
  timeoutMs?: number;
  /** Local IP to dial from. */
  localAddress?: string;
}

/** The default connect deadline: ztunnel's. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Open a TCP connection. Resolves once connected; rejects with the socket's error, or with
 * `connection timed out after <n> ms` when the deadline passes first.
 */
export function connectTcp(options: ConnectTcpOptions): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
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
