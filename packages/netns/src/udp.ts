// UDP sockets created inside a network namespace and handed to node:dgram (ztunnel's per-pod DNS server on
// 15053 and the upstream sockets its forwarder asks from inside the pod).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { addon } from './addon.ts';
import { native, NetnsError } from './errors.ts';
import type { SocketOptions } from './sockets.ts';

export interface UdpBindOptions extends SocketOptions {
  /** IP literal to bind ('127.0.0.1', '::1', '0.0.0.0' or '::' for an unconnected client socket, …). */
  host: string;
  /** 0 picks a free port (an upstream-query socket). */
  port: number;
  /** SO_REUSEADDR (default false). */
  reuseAddr?: boolean;
  /** SO_REUSEPORT (default false). */
  reusePort?: boolean;
  /** With host '::': refuse IPv4 (IPV6_V6ONLY). Default false (dual stack). */
  ipv6Only?: boolean;
}

/**
 * A bound UDP socket fd made in `options.netns` with the options applied (wrap it with
 * `dgram.createSocket(type).bind({ fd })`, or use bindUdpInNamespace). Throws NetnsError; nothing is left open.
 */
export function bindUdpFd(options: UdpBindOptions): number {
  const family = isIP(options.host);
  if (family === 0) throw new NetnsError('INVALID_ARGUMENT', `UDP host must be an IP literal, got "${options.host}"`);
  const lib = addon();
  const where = options.netns === undefined ? 'UDP socket' : `UDP socket in namespace fd ${options.netns}`;
  const fd = native(where, () => lib.socket(family as 4 | 6, 'udp', options.netns ?? -1));
  try {
    if (options.mark !== undefined) native('SO_MARK', () => lib.setOption(fd, 'mark', options.mark ?? 0));
    if (options.transparent) native('IP_TRANSPARENT', () => lib.setOption(fd, 'transparent', 1));
    if (options.freebind) native('IP_FREEBIND', () => lib.setOption(fd, 'freebind', 1));
    if (options.reuseAddr) native('SO_REUSEADDR', () => lib.setOption(fd, 'reuseaddr', 1));
    if (options.reusePort) native('SO_REUSEPORT', () => lib.setOption(fd, 'reuseport', 1));
    if (family === 6) native('IPV6_V6ONLY', () => lib.setOption(fd, 'v6only', options.ipv6Only ? 1 : 0));
    native(`bind udp ${options.host}:${options.port}`, () => lib.bind(fd, options.host, options.port));
    return fd;
  } catch (error) {
    try {
      lib.close(fd);
    } catch {
      // the first error is the one to report
    }
    throw error;
  }
}

/**
 * A node:dgram socket bound to `host:port` whose socket lives in `options.netns` (routing, iptables and
 * source addresses are the namespace's); use it as any dgram socket (`send`, 'message', `close`). With
 * port 0 it is an upstream-query socket: `send` from inside the namespace, answers arrive as 'message'.
 */
export async function bindUdpInNamespace(options: UdpBindOptions): Promise<UdpSocket> {
  const fd = bindUdpFd(options);
  const socket = createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ fd }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    try {
      socket.close();
    } catch {
      // never bound
    }
    try {
      addon().close(fd);
    } catch {
      // already closed with the socket
    }
    throw new NetnsError('ERRNO', `adopting the UDP fd failed: ${(error as Error).message}`, {
      ...((error as NodeJS.ErrnoException).code ? { errno: (error as NodeJS.ErrnoException).code } : {}),
      syscall: 'dgram bind',
    });
  }
  return socket;
}
