// TCP sockets created inside a network namespace and handed to node:net, plus the options Node lacks.
import { Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { isIP, Server, Socket } from 'node:net';
import { addon, type AddressInfo } from './addon.ts';
import { native, NetnsError } from './errors.ts';

/** Options every socket this package creates can take. */
export interface SocketOptions {
  /** fd of a network namespace (e.g. of /var/run/netns/<name>) to create the socket in; default the caller's. */
  netns?: number;
  /** SO_MARK (ztunnel marks its sockets 1337); needs CAP_NET_ADMIN. */
  mark?: number;
  /** IP_TRANSPARENT / IPV6_TRANSPARENT: accept TPROXY traffic, or bind a non-local (spoofed) source. */
  transparent?: boolean;
  /** IP_FREEBIND / IPV6_FREEBIND: bind an address not (yet) on an interface. */
  freebind?: boolean;
}

export interface ListenOptions extends SocketOptions {
  /** IP literal to bind ('0.0.0.0', '::' for dual stack, …). */
  host: string;
  port: number;
  backlog?: number;
  /** SO_REUSEPORT (ztunnel's in-pod listeners use it). */
  reusePort?: boolean;
  /** With host '::': refuse IPv4 (IPV6_V6ONLY). Default false (dual stack). */
  ipv6Only?: boolean;
}

export interface ConnectOptions extends SocketOptions {
  /** IP literal to connect to (resolve names first). */
  host: string;
  port: number;
  /** Source address to bind before connecting (with `transparent`, any address: original-source spoofing). */
  localAddress?: string;
  localPort?: number;
}

function familyOf(host: string, what: string): 4 | 6 {
  const family = isIP(host);
  if (family === 0) throw new NetnsError('INVALID_ARGUMENT', `${what} must be an IP literal, got "${host}"`);
  return family as 4 | 6;
}

/** Anything this package reads or sets options on: a node:net Socket or Server, a node:dgram Socket, an fd. */
export type SocketTarget = Socket | Server | UdpSocket | number;

/** The fd under a node:net Socket or Server, a bound node:dgram Socket (or the number itself). */
export function fdOf(target: SocketTarget): number {
  if (typeof target === 'number') return target;
  let fd: unknown;
  if (target instanceof UdpSocket) {
    // dgram keeps its handle behind a state symbol (its `_handle` is deprecated)
    const state = Object.getOwnPropertySymbols(target)
      .map((symbol) => (target as unknown as Record<symbol, { handle?: { fd?: unknown } | null }>)[symbol])
      .find((value) => value !== null && typeof value === 'object' && 'handle' in value);
    fd = state?.handle?.fd;
  } else fd = (target as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new NetnsError('INVALID_ARGUMENT', 'not a connected, listening or bound socket (it has no fd)');
  return fd;
}

function closeQuietly(fd: number): void {
  try {
    addon().close(fd);
  } catch {
    // already failing; the first error is the one to report
  }
}

/** Creates a TCP socket fd (non-blocking, close-on-exec) in `options.netns` with the options applied. */
export function createSocketFd(family: 4 | 6, options: SocketOptions): number {
  const lib = addon();
  const where = options.netns === undefined ? 'socket' : `socket in namespace fd ${options.netns}`;
  const fd = native(where, () => lib.socket(family, 'tcp', options.netns ?? -1));
  try {
    if (options.mark !== undefined) native('SO_MARK', () => lib.setOption(fd, 'mark', options.mark ?? 0));
    if (options.transparent) native('IP_TRANSPARENT', () => lib.setOption(fd, 'transparent', 1));
    if (options.freebind) native('IP_FREEBIND', () => lib.setOption(fd, 'freebind', 1));
    return fd;
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
}

/**
 * A listening TCP socket fd: created in `options.netns`, options set, bound and listening. Wrap it with
 * `createServer().listen({ fd })`, or use listenInNamespace.
 */
export function listenFd(options: ListenOptions): number {
  const family = familyOf(options.host, 'listen host');
  const fd = createSocketFd(family, options);
  const lib = addon();
  try {
    native('SO_REUSEADDR', () => lib.setOption(fd, 'reuseaddr', 1));
    if (options.reusePort) native('SO_REUSEPORT', () => lib.setOption(fd, 'reuseport', 1));
    if (family === 6) native('IPV6_V6ONLY', () => lib.setOption(fd, 'v6only', options.ipv6Only ? 1 : 0));
    native(`bind ${options.host}:${options.port}`, () => lib.bind(fd, options.host, options.port));
    native('listen', () => lib.listen(fd, options.backlog ?? 511));
    return fd;
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
}

/** A listening node:net Server whose socket lives in `options.netns`; attach 'connection' as usual. */
export async function listenInNamespace(
  options: ListenOptions,
  onConnection?: (socket: Socket) => void,
): Promise<Server> {
  const fd = listenFd(options);
  const server = new Server(onConnection);
  server.listen({ fd });
  await once(server, 'listening');
  return server;
}

/**
 * A node:net Socket connecting from inside `options.netns` (the socket is created there, so routing, iptables
 * and source addresses are the namespace's); it emits 'connect' as usual, and errors the usual way.
 */
export function connectInNamespace(options: ConnectOptions): Socket {
  const family = familyOf(options.host, 'connect host');
  const fd = createSocketFd(family, options);
  try {
    if (options.localAddress !== undefined || options.localPort !== undefined) {
      const local = options.localAddress ?? (family === 4 ? '0.0.0.0' : '::');
      familyOf(local, 'localAddress');
      native(`bind ${local}:${options.localPort ?? 0}`, () => addon().bind(fd, local, options.localPort ?? 0));
    }
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
  // manualStart: do not start reading before the connect (an unconnected socket would read as closed).
  const socket = new Socket({ fd, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  return socket.connect({ host: options.host, port: options.port });
}

/** Sets SO_MARK on a socket (needs CAP_NET_ADMIN). */
export function setMark(target: SocketTarget, mark: number): void {
  const fd = fdOf(target);
  native('SO_MARK', () => addon().setOption(fd, 'mark', mark));
}

/** Reads SO_MARK back. */
export function getMark(target: SocketTarget): number {
  const fd = fdOf(target);
  return native('SO_MARK', () => addon().getOption(fd, 'mark'));
}

/** Reads one of the options this package sets (1/0 for flags). */
export function getSocketOption(
  target: SocketTarget,
  name: 'mark' | 'reuseport' | 'transparent' | 'freebind' | 'v6only',
): number {
  const fd = fdOf(target);
  return native(name, () => addon().getOption(fd, name));
}

export interface OriginalDestination extends AddressInfo {
  /** Which lookup answered: the netfilter REDIRECT/DNAT record, or the local address (TPROXY / not redirected). */
  via: 'SO_ORIGINAL_DST' | 'IP6T_SO_ORIGINAL_DST' | 'local';
}

/**
 * Where an accepted (captured) connection was going before iptables redirected it: SO_ORIGINAL_DST for IPv4,
 * IP6T_SO_ORIGINAL_DST for IPv6, else the socket's local address (TPROXY keeps it there).
 */
export function originalDestination(target: Socket | number): OriginalDestination {
  const fd = fdOf(target);
  return native('original destination', () => addon().originalDestination(fd));
}

/** The bound address of a socket (fd or node:net object). */
export function localAddressOf(target: SocketTarget): AddressInfo {
  const fd = fdOf(target);
  return native('getsockname', () => addon().localAddress(fd));
}

/** Identity of a network namespace fd ({dev, ino}, as `ip netns identify` compares); NOT_A_NAMESPACE otherwise. */
export function namespaceId(fd: number): { dev: number; ino: number } {
  return native(`namespace fd ${fd}`, () => addon().namespaceId(fd));
}
